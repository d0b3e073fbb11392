//! The embedded bus: topics with partitions, delivered by a keyed worker
//! pool. A key picks its partition the way Kafka's default partitioner does
//! (a hash, modulo the partition count), and (topic, partition, key) picks
//! the worker. Each worker has one bounded FIFO queue, so per-key order
//! holds and a slow subscriber pushes back on the producers instead of
//! growing memory.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::leaky::Stall;
use super::{Bus, BusError, Offer, Outgoing, Publisher, Topic};
use crate::crew::Crew;
use crate::metrics::Recorder;
use crate::scenario::BusSpec;

/// What travels through a worker queue.
struct Envelope {
    topic: usize,
    payload: Bytes,
}

/// A provisioned topic: its partition count and its subscribers.
#[derive(Default)]
struct Route {
    partitions: u32,
    subscribers: Vec<Arc<Recorder>>,
}

type Routes = Arc<RwLock<Vec<Route>>>;

pub struct MemoryBus {
    crew: Crew,
    queues: RwLock<Vec<mpsc::Sender<Envelope>>>,
    routes: Routes,
    stall: Option<Arc<Stall>>,
}

impl MemoryBus {
    pub fn new(spec: &BusSpec, stall: Option<Duration>) -> MemoryBus {
        let crew = Crew::default();
        let routes: Routes = Arc::default();
        let stall = Stall::new(stall);
        let mut queues = Vec::with_capacity(spec.workers);
        for _ in 0..spec.workers {
            let (tx, rx) = mpsc::channel(spec.queue);
            let worker = work(rx, routes.clone(), crew.token(), stall.clone());
            crew.spawn("memory-worker", worker);
            queues.push(tx);
        }
        MemoryBus { crew, queues: RwLock::new(queues), routes, stall }
    }
}

/// One worker of the keyed pool: takes batches off its queue and hands each
/// message to the topic's subscribers, in queue order.
async fn work(
    mut rx: mpsc::Receiver<Envelope>,
    routes: Routes,
    stop: CancellationToken,
    stall: Option<Arc<Stall>>,
) {
    let mut batch = Vec::with_capacity(64);
    loop {
        let got = tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, 64) => n,
            _ = stop.cancelled() => 0,
        };
        if got == 0 {
            return;
        }
        if let Some(stall) = &stall {
            tokio::select! {
                _ = stall.wait() => {}
                _ = stop.cancelled() => return,
            }
        }
        {
            let routes = routes.read();
            for env in &batch {
                for recorder in routes.get(env.topic).iter().flat_map(|r| &r.subscribers) {
                    recorder.delivered(&env.payload);
                }
            }
        }
        batch.clear();
    }
}

fn mix(x: u64) -> u64 {
    let x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 31)
}

#[async_trait]
impl Bus for MemoryBus {
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError> {
        let mut routes = self.routes.write();
        routes.clear();
        for t in topics {
            routes.push(Route { partitions: t.partitions.max(1), subscribers: Vec::new() });
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        _stop: CancellationToken,
    ) -> Result<(), BusError> {
        let mut routes = self.routes.write();
        if routes.len() < topics.len() {
            let missing = &topics[routes.len()].name;
            return Err(BusError::Failed(format!("topic {missing} was not provisioned")));
        }
        for route in routes.iter_mut().take(topics.len()) {
            route.subscribers.push(recorder.clone());
        }
        Ok(())
    }

    async fn publisher(
        &self,
        _topics: &[Topic],
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn Publisher>, BusError> {
        let queues = self.queues.read().clone();
        if queues.is_empty() {
            return Err(BusError::Failed("the memory bus is closed".into()));
        }
        let partitions = self.routes.read().iter().map(|r| r.partitions).collect();
        if let Some(stall) = &self.stall {
            stall.begin();
        }
        Ok(Box::new(MemoryPublisher { queues, partitions, recorder }))
    }

    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError> {
        // dropping the senders lets each worker finish its queue and stop
        self.queues.write().clear();
        let stuck = self.crew.join(deadline).await;
        self.routes.write().clear();
        Ok(stuck)
    }
}

struct MemoryPublisher {
    queues: Vec<mpsc::Sender<Envelope>>,
    partitions: Vec<u32>,
    recorder: Arc<Recorder>,
}

impl MemoryPublisher {
    fn queue_for(&self, topic: usize, key: u32) -> &mpsc::Sender<Envelope> {
        let partitions = self.partitions.get(topic).copied().unwrap_or(1) as u64;
        let partition = mix(key as u64) % partitions;
        let worker = mix((topic as u64) << 48 ^ partition << 32 ^ key as u64);
        &self.queues[(worker % self.queues.len() as u64) as usize]
    }
}

fn closed() -> BusError {
    BusError::Failed("the memory bus closed while publishing".into())
}

#[async_trait]
impl Publisher for MemoryPublisher {
    fn offer(&mut self, msg: Outgoing) -> Offer {
        let queue = self.queue_for(msg.topic, msg.header.key);
        let Outgoing { header, topic, payload } = msg;
        match queue.try_send(Envelope { topic, payload }) {
            Ok(()) => {
                // a message is acknowledged when its worker's queue accepts it
                self.recorder.acked(&header);
                Offer::Taken
            }
            Err(TrySendError::Full(env)) => {
                Offer::Busy(Outgoing { header, topic, payload: env.payload })
            }
            Err(TrySendError::Closed(_)) => Offer::Failed(closed()),
        }
    }

    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError> {
        let queue = self.queue_for(msg.topic, msg.header.key);
        let envelope = Envelope { topic: msg.topic, payload: msg.payload };
        queue.send(envelope).await.map_err(|_| closed())?;
        self.recorder.acked(&msg.header);
        Ok(())
    }

    async fn flush(&mut self, _deadline: Duration) -> Result<(), BusError> {
        Ok(())
    }
}
