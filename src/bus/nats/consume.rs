//! The subscriber side: one task per topic hands every message to the
//! recorder. Core NATS subscribes to the topic's subject and proves the
//! subscription is live with a probe message sent over the publishing
//! connection; JetStream gets a push consumer per topic with explicit acks,
//! each message acknowledged after it is recorded.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Subscriber};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::bus::leaky::Stall;
use crate::bus::BusError;
use crate::message::now_ns;
use crate::metrics::Recorder;

/// The readiness probe: not a loadrun envelope, and never recorded.
pub const PROBE: &[u8] = b"loadrun: is this subscription live?";
/// The end marker, sent after the last message once the client has dropped
/// some: not a loadrun envelope either, and never recorded.
pub const END: &[u8] = b"loadrun: end of this stage's messages";
/// How long a probe may take before it is sent again.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// Messages taken in one go once the first has arrived, so the cost of
/// watching the two stop tokens is paid per batch, not per message.
const BATCH: usize = 256;
const UNSUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// Stops when the stage's consumers stop or the bus closes.
#[derive(Clone)]
pub struct Stops {
    pub stage: CancellationToken,
    pub bus: CancellationToken,
}

impl Stops {
    async fn stopped(&self) {
        tokio::select! {
            _ = self.stage.cancelled() => {}
            _ = self.bus.cancelled() => {}
        }
    }
}

/// Takes the next message, then whatever else is already waiting, up to a
/// batch. An empty batch means the subscription ended or was stopped.
async fn next_batch(sub: &mut Subscriber, stops: &Stops, batch: &mut Vec<async_nats::Message>) {
    let first = tokio::select! {
        biased;
        _ = stops.stopped() => None,
        m = sub.next() => m,
    };
    let Some(first) = first else { return };
    batch.push(first);
    while batch.len() < BATCH {
        match sub.next().now_or_never() {
            Some(Some(m)) => batch.push(m),
            _ => break,
        }
    }
}

/// End markers of a core NATS stage that lost messages. The server keeps
/// one connection's messages in order, so a subscriber that sees a marker
/// published after the last message has had, or lost, every message
/// before it; a marker that is itself dropped is sent again.
#[derive(Default)]
pub struct Ends {
    subjects: Mutex<Vec<String>>,
    seen: AtomicUsize,
    sending: AtomicBool,
}

impl Ends {
    pub fn watch(&self, subject: &str) {
        self.subjects.lock().push(subject.to_string());
    }

    /// True once every subscriber has seen a marker.
    pub fn all_seen(&self) -> bool {
        let watched = self.subjects.lock().len();
        watched > 0 && self.seen.load(Relaxed) >= watched
    }

    /// The subjects to mark, handed out the first time only.
    pub fn start(&self) -> Option<Vec<String>> {
        (!self.sending.swap(true, Relaxed)).then(|| self.subjects.lock().clone())
    }
}

/// Publishes `marker` (`PROBE` or `END`, named by `what`) to each subject,
/// then flushes, so the markers are on their way when it returns.
async fn mark<'a>(
    publisher: &Client,
    subjects: impl Iterator<Item = &'a String>,
    marker: &'static [u8],
    what: &str,
) -> Result<(), BusError> {
    for subject in subjects {
        publisher
            .publish(subject.clone(), Bytes::from_static(marker))
            .await
            .map_err(|e| BusError::Failed(format!("sending {what} to {subject}: {e}")))?;
    }
    let _ = publisher.flush().await;
    Ok(())
}

/// Publishes an end marker to every subject every `PROBE_EVERY`, until the
/// bus closes.
pub async fn mark_ends(publisher: Client, subjects: Vec<String>, stop: CancellationToken) {
    loop {
        // a failed marker is sent again next time round
        let _ = mark(&publisher, subjects.iter(), END, "the end marker").await;
        tokio::select! {
            _ = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// A core NATS subscriber: records every message, and answers the
/// readiness probe once. A message the client dropped because this task
/// fell behind (a slow-consumer event) never arrives and counts as lost;
/// the bus reports such drops through `Bus::losing`. An injected `stall`
/// pauses the task like a memory-bus worker.
pub async fn core(
    mut sub: Subscriber,
    recorder: Arc<Recorder>,
    ready: oneshot::Sender<()>,
    stops: Stops,
    ends: Arc<Ends>,
    stall: Option<Arc<Stall>>,
) {
    let mut ready = Some(ready);
    let mut ended = false;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        next_batch(&mut sub, &stops, &mut batch).await;
        if batch.is_empty() {
            break;
        }
        if let Some(stall) = &stall {
            tokio::select! {
                _ = stall.wait() => {}
                _ = stops.stopped() => {}
            }
        }
        // every message of the batch was already waiting at this moment
        let now = now_ns();
        for msg in batch.drain(..) {
            if msg.payload.as_ref() == PROBE {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                continue;
            }
            if msg.payload.as_ref() == END {
                if !ended {
                    ended = true;
                    ends.seen.fetch_add(1, Relaxed);
                }
                continue;
            }
            recorder.delivered_at(&msg.payload, now);
        }
    }
    let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, sub.unsubscribe()).await;
}

/// A JetStream push consumer's subscriber: records, then acknowledges each
/// message on the same connection.
pub async fn jetstream(mut sub: Subscriber, client: Client, recorder: Arc<Recorder>, stops: Stops) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        next_batch(&mut sub, &stops, &mut batch).await;
        if batch.is_empty() {
            break;
        }
        let now = now_ns();
        for msg in batch.drain(..) {
            recorder.delivered_at(&msg.payload, now);
            let Some(reply) = msg.reply else { continue };
            // an ack that fails is redelivered by the server later, and
            // shows as a duplicate, not hidden
            let acked = tokio::select! {
                r = client.publish(reply, Bytes::new()) => r.is_ok(),
                _ = stops.stopped() => false,
            };
            if !acked {
                tracing::debug!(target: "loadrun::bus", "a jetstream ack was not sent");
            }
        }
    }
    let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, sub.unsubscribe()).await;
}

/// Waits until every subscriber has seen a probe published over the
/// publishing connection: then the server routes that connection's
/// messages to them, so not one message of the stage can be missed.
///
/// # Cancel safety
/// Dropping this future only stops probing; the subscribers keep running.
pub async fn await_probes(
    publisher: &Client,
    waiting: Vec<(String, oneshot::Receiver<()>)>,
) -> Result<(), BusError> {
    let mut waiting = waiting;
    while !waiting.is_empty() {
        let subjects = waiting.iter().map(|(subject, _)| subject);
        mark(publisher, subjects, PROBE, "the readiness probe").await?;
        let pause = tokio::time::sleep(PROBE_EVERY);
        tokio::pin!(pause);
        let mut still = Vec::new();
        for (subject, mut rx) in waiting {
            let seen = tokio::select! {
                biased;
                r = &mut rx => match r {
                    Ok(()) => true,
                    Err(_) => return Err(BusError::Failed(format!(
                        "the subscriber of {subject} ended before it was ready"
                    ))),
                },
                _ = &mut pause => false,
            };
            if !seen {
                still.push((subject, rx));
            }
        }
        waiting = still;
    }
    Ok(())
}
