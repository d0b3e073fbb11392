//! One connection to a NATS server, opened the way a load test needs it:
//! the first connect bounded by the scenario's `connect_timeout`, a lost
//! connection retried for a few seconds and then given up (so a server that
//! went away fails the stage instead of hanging it), and every client event
//! forwarded to the bus's event log by a labelled task. That task ends only
//! when the client's own background tasks have ended, so joining it is how
//! `close` knows the client is really gone.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use tokio::sync::mpsc;

use super::events::EventLog;
use crate::bus::BusError;
use crate::crew::Crew;

/// A lost connection is retried this often...
const RECONNECT_DELAY: Duration = Duration::from_millis(250);
/// ...this many times (about five seconds against a closed port), and then
/// the client gives up and its background tasks end.
pub const RECONNECT_ATTEMPTS: usize = 20;
/// Commands (publishes, flushes, acks) queued in front of the connection.
const CLIENT_CAPACITY: usize = 8192;

/// Which of the bus's connections an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Publishing,
    Subscribing,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Publishing => "publishing",
            Role::Subscribing => "subscribing",
        }
    }
}

/// Connects one client. `shown` is the URL as messages may print it (a
/// secret URL is redacted there).
pub async fn open(
    url: &str,
    shown: &str,
    role: Role,
    timeout: Duration,
    events: &Arc<EventLog>,
    crew: &Crew,
) -> Result<Client, BusError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let log = events.clone();
    // ends when the client drops its event callback, i.e. when the client's
    // own tasks are gone; it must not stop at cancellation, or joining it
    // would prove nothing
    crew.spawn("nats-events", async move {
        while let Some(event) = rx.recv().await {
            log.note(role, &event);
        }
    });

    let options = ConnectOptions::new()
        .name(format!("loadrun ({})", role.name()))
        .connection_timeout(timeout)
        .max_reconnects(RECONNECT_ATTEMPTS)
        .reconnect_delay_callback(|_| RECONNECT_DELAY)
        .client_capacity(CLIENT_CAPACITY)
        // loadrun checks its subjects once, before publishing (`mod.rs`)
        .skip_subject_validation(role == Role::Publishing)
        .event_callback(move |event| {
            let _ = tx.send(event);
            std::future::ready(())
        });
    let unreachable = |reason: String| BusError::Unreachable {
        what: format!("the nats server at {shown}"),
        reason,
    };
    // the client bounds the TCP connect and handshake by `timeout`; this
    // bound covers everything else (a server that accepts and never speaks)
    match tokio::time::timeout(timeout, options.connect(url)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(unreachable(lowercase(&e.to_string()))),
        Err(_) => Err(unreachable(format!("no answer within {timeout:?}"))),
    }
}

/// async-nats words some errors with a capital letter; ours never are.
fn lowercase(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
