//! The bus seam: one trait that every backend implements, so the stage
//! lifecycle never knows which bus it drives. A backend is built fresh for
//! every stage by `connect` and gone after `close`.

mod kafka;
mod leaky;
mod memory;
mod nats;

pub use leaky::{Faults, Leak};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::message::Header;
use crate::metrics::Recorder;
use crate::probe::Gauge;
use crate::scenario::{BusKind, BusSpec};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The server could not be reached at all: a usage problem (exit 2).
    #[error("cannot reach {what}: {reason}")]
    Unreachable { what: String, reason: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    #[error("{0}")]
    Failed(String),
    #[error("stopped")]
    Cancelled,
}

/// A topic of this stage: a unique name and its partition count.
#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    pub partitions: u32,
}

/// One message on its way out.
pub struct Outgoing {
    pub header: Header,
    /// Index into the stage's topics.
    pub topic: usize,
    pub payload: Bytes,
}

/// The answer to `Publisher::offer`.
pub enum Offer {
    /// The bus took the message.
    Taken,
    Failed(BusError),
    /// The bus cannot take it without waiting: `send` it.
    Busy(Outgoing),
}

#[async_trait]
pub trait Publisher: Send {
    /// Hands a message over if the bus can take it without waiting. The
    /// producer loop tries this first, so a bus with room costs no future
    /// per message.
    fn offer(&mut self, msg: Outgoing) -> Offer {
        Offer::Busy(msg)
    }

    /// Hands a message to the bus, waiting while the bus pushes back. The
    /// acknowledgement (or its failure) reaches the recorder later.
    ///
    /// # Cancel safety
    /// Dropping the future may drop the message; it was then not sent.
    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError>;

    /// Waits until every message sent has been acknowledged or has failed.
    async fn flush(&mut self, deadline: Duration) -> Result<(), BusError>;
}

#[async_trait]
pub trait Bus: Send + Sync {
    /// Creates the stage's topics.
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError>;

    /// Starts consuming `topics` into `recorder`, returning once the
    /// consumers are ready to see the first message. Consumers stop when
    /// `stop` is cancelled.
    async fn subscribe(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stop: CancellationToken,
    ) -> Result<(), BusError>;

    /// A publisher for one producer task.
    async fn publisher(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn Publisher>, BusError>;

    /// Flushes and closes everything, deletes the stage's topics (unless
    /// kept) and waits for the bus's own tasks and threads to end. Returns
    /// the labels of any task that had to be aborted.
    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError>;

    /// Things the bus noticed out of band (slow consumers, disconnects).
    fn events(&self) -> Vec<String> {
        Vec::new()
    }

    /// Why the messages still missing will never arrive, once the bus is
    /// sure of it (a core NATS slow consumer). The drain then ends at once
    /// instead of at the stage timeout.
    fn losing(&self) -> Option<String> {
        None
    }
}

/// What a backend needs to know about the stage it serves.
#[derive(Debug, Clone)]
pub struct StageInfo {
    pub run_id: String,
    pub stage: String,
}

/// Builds a fresh bus for one stage, bounded by the connect timeout.
pub async fn connect(
    spec: &BusSpec,
    info: &StageInfo,
    faults: &Faults,
) -> Result<Box<dyn Bus>, BusError> {
    let bus: Box<dyn Bus> = match spec.kind {
        BusKind::Memory => Box::new(memory::MemoryBus::new(spec, faults.stall)),
        BusKind::Kafka => Box::new(kafka::connect(spec, info).await?),
        BusKind::Nats => Box::new(nats::NatsBus::connect(spec, info, faults.stall).await?),
    };
    Ok(leaky::wrap(bus, faults))
}

/// The extra resource a bus kind reports, read by the probe.
pub fn gauge(kind: BusKind) -> Option<Gauge> {
    match kind {
        BusKind::Kafka => Some(Gauge { name: "rdkafka_threads", read: kafka::thread_count }),
        BusKind::Memory | BusKind::Nats => None,
    }
}
