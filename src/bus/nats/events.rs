//! What the NATS clients reported out of band: slow-consumer events (the
//! client dropped messages its subscriber could not take in time), lost and
//! regained connections, server and client errors. Loss itself is counted by
//! the recorder as sent minus received; this log says why it happened.

use async_nats::{ClientError, Event, ServerError};
use parking_lot::Mutex;

use super::link::{Role, RECONNECT_ATTEMPTS};

/// Distinct error texts kept, so a flood of one error stays one line.
const KEPT_ERRORS: usize = 8;

#[derive(Default)]
pub struct EventLog {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    slow_consumer: u64,
    /// Per role (publishing, subscribing): connects and disconnects seen.
    connects: [u64; 2],
    disconnects: [u64; 2],
    /// Set when a client gave up reconnecting: the server is gone.
    gone: Option<String>,
    errors: Vec<String>,
}

fn slot(role: Role) -> usize {
    match role {
        Role::Publishing => 0,
        Role::Subscribing => 1,
    }
}

impl EventLog {
    pub fn note(&self, role: Role, event: &Event) {
        let mut s = self.state.lock();
        match event {
            Event::SlowConsumer(_) => s.slow_consumer += 1,
            Event::ServerError(e @ ServerError::SlowConsumer(_)) => {
                s.slow_consumer += 1;
                keep(&mut s.errors, format!("server error: {e}"));
            }
            Event::Connected => s.connects[slot(role)] += 1,
            Event::Disconnected => s.disconnects[slot(role)] += 1,
            Event::ClientError(ClientError::MaxReconnects) => {
                let why = format!(
                    "the {} connection gave up after {RECONNECT_ATTEMPTS} reconnect attempts",
                    role.name()
                );
                s.gone.get_or_insert(why);
            }
            Event::ServerError(e) => keep(&mut s.errors, format!("server error: {e}")),
            Event::ClientError(e) => keep(&mut s.errors, format!("client error: {e}")),
            Event::LameDuckMode | Event::Draining | Event::Closed => {}
        }
    }

    /// Why the connection is gone for good, once a client has given up.
    pub fn gone(&self) -> Option<String> {
        self.state.lock().gone.clone()
    }

    /// Why messages are known to be lost, for `Bus::losing`.
    pub fn losing(&self) -> Option<String> {
        match self.state.lock().slow_consumer {
            0 => None,
            n => Some(format!(
                "nats dropped messages its subscriber could not take in time \
                 ({n} slow-consumer events)"
            )),
        }
    }

    /// One line per kind of event, for `Bus::events`.
    pub fn lines(&self) -> Vec<String> {
        let s = self.state.lock();
        let mut out = Vec::new();
        if s.slow_consumer > 0 {
            out.push(format!(
                "nats: {} slow-consumer events: the client dropped messages a subscriber could \
                 not take in time (they count as lost)",
                s.slow_consumer
            ));
        }
        for role in [Role::Publishing, Role::Subscribing] {
            let (lost, connects) = (s.disconnects[slot(role)], s.connects[slot(role)]);
            if lost > 0 {
                let mut line =
                    format!("nats: the {} connection was lost {lost} time(s)", role.name());
                match connects.saturating_sub(1) {
                    0 => line.push_str(" and not re-established"),
                    back => line.push_str(&format!(" and re-established {back} time(s)")),
                }
                out.push(line);
            }
        }
        out.extend(s.gone.iter().map(|g| format!("nats: {g}")));
        out.extend(s.errors.iter().map(|e| format!("nats: {e}")));
        out
    }
}

fn keep(errors: &mut Vec<String>, text: String) {
    if errors.len() < KEPT_ERRORS && !errors.contains(&text) {
        errors.push(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slow_consumers_and_remembers_a_lost_server() {
        let log = EventLog::default();
        log.note(Role::Subscribing, &Event::Connected);
        for sid in [1, 1, 2] {
            log.note(Role::Subscribing, &Event::SlowConsumer(sid));
        }
        assert!(log.gone().is_none());
        assert_eq!(log.lines().len(), 1, "{:?}", log.lines());

        log.note(Role::Publishing, &Event::Disconnected);
        log.note(Role::Publishing, &Event::ClientError(ClientError::MaxReconnects));
        let gone = log.gone().expect("gone");
        assert!(gone.contains("publishing connection gave up"), "{gone}");

        let lines = log.lines();
        assert!(lines[0].starts_with("nats: 3 slow-consumer events"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("lost 1 time(s)")), "{lines:?}");
    }
}
