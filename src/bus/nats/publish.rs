//! The publishing side. A publisher hands messages to the client and passes
//! each one's header to its own acknowledgement task, which records when the
//! message was acknowledged:
//!
//! - JetStream: when the stream's publish acknowledgement arrives. The task
//!   keeps a bounded window of outstanding acknowledgements, so a publisher
//!   never waits for one ack before sending the next.
//! - Core NATS has no acknowledgement. There "publish latency" means: from
//!   the send time until the client has written the message to the
//!   server's socket (a client flush covering it). The task groups the
//!   headers that arrive while a flush is running into the next flush.

// limit: every message goes through async-nats's per-message command queue
// and its one connection task, which caps a publisher at about 0.7 of the
// barest async-nats loop on 2 cores (`make bench-nats`), until async-nats
// takes messages in batches

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use async_nats::jetstream::{self, publish::PublishAck};
use async_nats::{Client, Subject};
use async_trait::async_trait;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::events::EventLog;
use crate::bus::{BusError, Offer, Outgoing, Publisher};
use crate::message::Header;
use crate::metrics::Recorder;

/// Messages whose acknowledgement a publisher may be waiting for at once.
pub const ACK_WINDOW: usize = 4096;
/// The longest one publish or one flush may block; a server that went away
/// is given up on well within it (see `link`).
const SEND_DEADLINE: Duration = Duration::from_secs(10);

type Answer = oneshot::Sender<Result<(), String>>;

/// How a publisher's messages get acknowledged.
pub enum Acks {
    /// Core NATS: headers wait in `Unflushed` for the next client flush.
    Core(Arc<Unflushed>),
    /// JetStream: each publish's acknowledgement goes to the ack task.
    Stream(Box<jetstream::Context>, mpsc::Sender<Pending>),
}

/// What a JetStream publisher hands its acknowledgement task.
pub enum Pending {
    Sent(Header, PublishAckFuture),
    /// Answered once everything before it has been acknowledged or failed.
    Barrier(Answer),
}

/// Core NATS headers handed to the client and not yet covered by a flush.
/// A publisher adds to it under a lock and wakes the flush task only when
/// it finds it empty, so at full speed a wake-up is paid per flush, not per
/// message. It holds what was published while one flush ran, and a flush
/// waits only for the client's bounded queue to be written out, so it stays
/// near that queue's size.
#[derive(Default)]
pub struct Unflushed {
    waiting: Mutex<Waiting>,
    wake: Notify,
}

#[derive(Default)]
struct Waiting {
    headers: Vec<Header>,
    barriers: Vec<Answer>,
}

impl Unflushed {
    fn add(&self, header: Header) {
        let mut waiting = self.waiting.lock();
        waiting.headers.push(header);
        let first = waiting.headers.len() == 1 && waiting.barriers.is_empty();
        drop(waiting);
        if first {
            self.wake.notify_one();
        }
    }

    fn barrier(&self, answer: Answer) {
        self.waiting.lock().barriers.push(answer);
        self.wake.notify_one();
    }

    /// Swaps the waiting headers into `headers` (emptied first) and takes
    /// the barriers.
    fn take(&self, headers: &mut Vec<Header>) -> Vec<Answer> {
        headers.clear();
        let mut waiting = self.waiting.lock();
        std::mem::swap(&mut waiting.headers, headers);
        std::mem::take(&mut waiting.barriers)
    }
}

pub struct NatsPublisher {
    pub client: Client,
    pub subjects: Vec<Subject>,
    pub acks: Acks,
    pub url: String,
    pub events: Arc<EventLog>,
}

impl NatsPublisher {
    /// A failed send, worded by what the connection went through.
    fn failure(&self, what: &str, error: impl std::fmt::Display) -> BusError {
        match self.events.gone() {
            Some(why) => BusError::Failed(format!("lost the nats server at {}: {why}", self.url)),
            None => BusError::Failed(format!("{what} to {}: {error}", self.url)),
        }
    }
}

#[async_trait]
impl Publisher for NatsPublisher {
    /// Core NATS only: the client takes a message at once while its queue
    /// has room (a publish that would wait is dropped unsent, which the
    /// client's queue allows, and the message comes back for `send`).
    fn offer(&mut self, msg: Outgoing) -> Offer {
        let Acks::Core(unflushed) = &self.acks else {
            return Offer::Busy(msg);
        };
        let subject = self.subjects[msg.topic].clone();
        match self.client.publish(subject, msg.payload.clone()).now_or_never() {
            Some(Ok(())) => {
                unflushed.add(msg.header);
                Offer::Taken
            }
            Some(Err(e)) => Offer::Failed(self.failure("publishing", e)),
            None => Offer::Busy(msg),
        }
    }

    /// # Cancel safety
    /// Dropped after the client took the message, the message still goes
    /// out but is neither counted as sent nor acknowledged.
    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError> {
        let subject = self.subjects[msg.topic].clone();
        // no timer per message: a publish waits only while the client's
        // queue is full, and the producer loop drops it at the stage's
        // deadline or cancellation
        match &self.acks {
            Acks::Core(unflushed) => match self.client.publish(subject, msg.payload).await {
                Ok(()) => {
                    unflushed.add(msg.header);
                    Ok(())
                }
                Err(e) => Err(self.failure("publishing", e)),
            },
            Acks::Stream(js, acks) => {
                let ack = match js.publish(subject, msg.payload).await {
                    Ok(ack) => ack,
                    Err(e) => return Err(self.failure("publishing to the stream", e)),
                };
                acks.send(Pending::Sent(msg.header, ack))
                    .await
                    .map_err(|_| BusError::Failed("the nats bus closed while publishing".into()))
            }
        }
    }

    async fn flush(&mut self, deadline: Duration) -> Result<(), BusError> {
        let (tx, rx) = oneshot::channel();
        let waited = tokio::time::timeout(deadline, async {
            match &self.acks {
                Acks::Core(unflushed) => unflushed.barrier(tx),
                Acks::Stream(_, acks) => acks
                    .send(Pending::Barrier(tx))
                    .await
                    .map_err(|_| "the nats bus closed".to_string())?,
            }
            rx.await.map_err(|_| "the nats bus closed".to_string())?
        })
        .await;
        match waited {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(self.failure("flushing", reason)),
            Err(_) => Err(BusError::Timeout {
                what: "waiting for nats acknowledgements".into(),
                after: deadline,
            }),
        }
    }
}

/// Core NATS: acknowledges each group of headers once a client flush that
/// was requested after they were published has completed.
pub async fn flushes(
    unflushed: Arc<Unflushed>,
    client: Client,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
) {
    let mut headers = Vec::new();
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            _ = unflushed.wake.notified() => {}
        }
        let barriers = unflushed.take(&mut headers);
        if headers.is_empty() && barriers.is_empty() {
            continue;
        }
        let flushed = tokio::select! {
            r = tokio::time::timeout(SEND_DEADLINE, client.flush()) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("flushing to the server: {e}")),
                Err(_) => Err(format!("no flush completed within {SEND_DEADLINE:?}")),
            },
            _ = stop.cancelled() => return,
        };
        match &flushed {
            Ok(()) => recorder.acked_all(&headers),
            Err(e) => headers.iter().for_each(|_| recorder.failed(e)),
        }
        for answer in barriers {
            let _ = answer.send(flushed.clone());
        }
    }
}

async fn settle(
    header: Header,
    ack: PublishAckFuture,
) -> (Header, Result<PublishAck, PublishError>) {
    (header, ack.await)
}

/// JetStream: records each publish acknowledgement as it arrives, holding
/// at most `ACK_WINDOW` outstanding; a barrier waits for all of them.
pub async fn stream_acks(
    mut rx: mpsc::Receiver<Pending>,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
) {
    let mut outstanding = FuturesUnordered::new();
    let mut barrier: Option<Answer> = None;
    let mut open = true;
    loop {
        if outstanding.is_empty() {
            if let Some(tx) = barrier.take() {
                let _ = tx.send(Ok(()));
            }
            if !open {
                return;
            }
        }
        let taking = open && barrier.is_none() && outstanding.len() < ACK_WINDOW;
        tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            Some((header, result)) = outstanding.next(), if !outstanding.is_empty() => match result {
                Ok(_) => recorder.acked(&header),
                Err(e) => recorder.failed(&format!("jetstream publish not acknowledged: {e}")),
            },
            pending = rx.recv(), if taking => match pending {
                Some(Pending::Sent(header, ack)) => outstanding.push(settle(header, ack)),
                Some(Pending::Barrier(tx)) => barrier = Some(tx),
                None => open = false,
            },
        }
    }
}
