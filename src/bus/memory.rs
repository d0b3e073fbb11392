//! The embedded bus: topics with partitions, delivered by a keyed worker
//! pool. A message goes to the worker its (topic, key) hashes to, and each
//! worker has one bounded FIFO queue, so per-key order holds and a slow
//! subscriber pushes back on the producers instead of growing memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Bus, BusError, Outgoing, Publisher, Topic};
use crate::crew::Crew;
use crate::metrics::Recorder;
use crate::scenario::BusSpec;

/// What travels through a worker queue.
struct Envelope {
    topic: usize,
    payload: Bytes,
}

/// Which recorders consume which topic (by the topic's index).
type Routes = Arc<RwLock<Vec<Vec<Arc<Recorder>>>>>;

pub struct MemoryBus {
    crew: Crew,
    queues: RwLock<Vec<mpsc::Sender<Envelope>>>,
    routes: Routes,
    offsets: RwLock<Vec<Arc<Vec<AtomicU64>>>>,
}

impl MemoryBus {
    pub fn new(spec: &BusSpec) -> MemoryBus {
        let crew = Crew::default();
        let routes: Routes = Arc::default();
        let mut queues = Vec::with_capacity(spec.workers);
        for _ in 0..spec.workers {
            let (tx, rx) = mpsc::channel(spec.queue);
            crew.spawn("memory-worker", work(rx, routes.clone(), crew.token()));
            queues.push(tx);
        }
        MemoryBus {
            crew,
            queues: RwLock::new(queues),
            routes,
            offsets: RwLock::default(),
        }
    }
}

/// One worker of the keyed pool: takes batches off its queue and hands each
/// message to the topic's subscribers, in queue order.
async fn work(mut rx: mpsc::Receiver<Envelope>, routes: Routes, stop: CancellationToken) {
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
        {
            let routes = routes.read();
            for env in &batch {
                for recorder in routes.get(env.topic).into_iter().flatten() {
                    recorder.delivered(&env.payload);
                }
            }
        }
        batch.clear();
    }
}

fn mix(topic: usize, key: u32) -> u64 {
    let x = (topic as u64) << 32 | key as u64;
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_right(29)
}

#[async_trait]
impl Bus for MemoryBus {
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError> {
        let mut offsets = self.offsets.write();
        offsets.clear();
        for t in topics {
            offsets.push(Arc::new(
                (0..t.partitions).map(|_| AtomicU64::new(0)).collect(),
            ));
        }
        self.routes.write().resize_with(topics.len(), Vec::new);
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
            return Err(BusError::Failed(format!(
                "topic {missing} was not provisioned"
            )));
        }
        for route in routes.iter_mut().take(topics.len()) {
            route.push(recorder.clone());
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
        let offsets = self.offsets.read().clone();
        Ok(Box::new(MemoryPublisher {
            queues,
            offsets,
            recorder,
        }))
    }

    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError> {
        // dropping the senders lets each worker finish its queue and stop
        self.queues.write().clear();
        let stuck = tokio::time::timeout(deadline, async { self.crew.join(deadline).await })
            .await
            .unwrap_or_else(|_| vec!["memory-worker".into()]);
        self.crew.cancel();
        self.routes.write().clear();
        self.offsets.write().clear();
        Ok(stuck)
    }
}

struct MemoryPublisher {
    queues: Vec<mpsc::Sender<Envelope>>,
    offsets: Vec<Arc<Vec<AtomicU64>>>,
    recorder: Arc<Recorder>,
}

#[async_trait]
impl Publisher for MemoryPublisher {
    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError> {
        let hash = mix(msg.topic, msg.header.key);
        if let Some(partitions) = self.offsets.get(msg.topic) {
            let partition = (hash % partitions.len() as u64) as usize;
            partitions[partition].fetch_add(1, Ordering::Relaxed);
        }
        let queue = &self.queues[(hash >> 16) as usize % self.queues.len()];
        let envelope = Envelope {
            topic: msg.topic,
            payload: msg.payload,
        };
        queue
            .send(envelope)
            .await
            .map_err(|_| BusError::Failed("the memory bus closed while publishing".into()))?;
        self.recorder.acked(&msg.header);
        Ok(())
    }

    async fn flush(&mut self, _deadline: Duration) -> Result<(), BusError> {
        // a message is acknowledged when its worker queue accepts it
        Ok(())
    }
}
