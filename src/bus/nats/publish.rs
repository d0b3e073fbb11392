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

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use async_nats::jetstream::{self, publish::PublishAck};
use async_nats::{Client, Subject};
use async_trait::async_trait;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::events::EventLog;
use crate::bus::{BusError, Outgoing, Publisher};
use crate::message::Header;
use crate::metrics::Recorder;

/// Messages whose acknowledgement a publisher may be waiting for at once.
pub const ACK_WINDOW: usize = 4096;
/// Headers taken into one core flush at most.
const FLUSH_BATCH: usize = 1024;
/// The longest one publish or one flush may block; a server that went away
/// is given up on well within it (see `link`).
const SEND_DEADLINE: Duration = Duration::from_secs(10);

/// What a publisher hands its acknowledgement task.
pub enum Pending {
    Sent(Header, Option<PublishAckFuture>),
    /// Answered once everything before it has been acknowledged or failed.
    Barrier(oneshot::Sender<Result<(), String>>),
}

pub struct NatsPublisher {
    pub client: Client,
    pub stream: Option<jetstream::Context>,
    pub subjects: Vec<Subject>,
    pub acks: mpsc::Sender<Pending>,
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
    /// # Cancel safety
    /// Dropped after the client took the message, the message still goes
    /// out but is neither counted as sent nor acknowledged.
    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError> {
        let subject = self.subjects[msg.topic].clone();
        let ack = match &self.stream {
            // no timer per message: a publish waits only while the client's
            // queue is full, and the producer loop drops it at the stage's
            // deadline or cancellation
            None => match self.client.publish(subject, msg.payload).await {
                Ok(()) => None,
                Err(e) => return Err(self.failure("publishing", e)),
            },
            Some(js) => match js.publish(subject, msg.payload).await {
                Ok(ack) => Some(ack),
                Err(e) => return Err(self.failure("publishing to the stream", e)),
            },
        };
        self.acks
            .send(Pending::Sent(msg.header, ack))
            .await
            .map_err(|_| BusError::Failed("the nats bus closed while publishing".into()))
    }

    async fn flush(&mut self, deadline: Duration) -> Result<(), BusError> {
        let (tx, rx) = oneshot::channel();
        let waited = tokio::time::timeout(deadline, async {
            self.acks
                .send(Pending::Barrier(tx))
                .await
                .map_err(|_| "the nats bus closed".to_string())?;
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
/// was requested after them has completed.
pub async fn flushes(
    mut rx: mpsc::Receiver<Pending>,
    client: Client,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(FLUSH_BATCH);
    loop {
        let got = tokio::select! {
            biased;
            _ = stop.cancelled() => 0,
            n = rx.recv_many(&mut batch, FLUSH_BATCH) => n,
        };
        if got == 0 {
            return;
        }
        let flushed = tokio::select! {
            r = tokio::time::timeout(SEND_DEADLINE, client.flush()) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("flushing to the server: {e}")),
                Err(_) => Err(format!("no flush completed within {SEND_DEADLINE:?}")),
            },
            _ = stop.cancelled() => return,
        };
        for pending in batch.drain(..) {
            match (pending, &flushed) {
                (Pending::Sent(header, _), Ok(())) => recorder.acked(&header),
                (Pending::Sent(..), Err(e)) => recorder.failed(e),
                (Pending::Barrier(tx), result) => {
                    let _ = tx.send(result.clone());
                }
            }
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
    let mut barrier: Option<oneshot::Sender<Result<(), String>>> = None;
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
                Some(Pending::Sent(header, Some(ack))) => outstanding.push(settle(header, ack)),
                Some(Pending::Sent(header, None)) => recorder.acked(&header),
                Some(Pending::Barrier(tx)) => barrier = Some(tx),
                None => open = false,
            },
        }
    }
}
