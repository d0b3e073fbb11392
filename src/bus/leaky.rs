//! Fault injection, for proving the verdicts: a wrapper around any bus that,
//! after the real close, deliberately leaves behind a thread, a task, a
//! file descriptor or heap memory (`--inject-leak`), and the stall the
//! memory bus and core NATS apply to their consumers (`--inject-stall`),
//! which the backends read from `Faults` at connect. Both flags are
//! hidden; a run without them never wraps the bus.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Bus, BusError, Publisher, Topic};
use crate::metrics::Recorder;
use crate::probe::tasks;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leak {
    Thread,
    Task,
    Fd,
    Heap,
}

impl Leak {
    pub fn parse(text: &str) -> Option<Leak> {
        match text {
            "thread" => Some(Leak::Thread),
            "task" => Some(Leak::Task),
            "fd" => Some(Leak::Fd),
            "heap" => Some(Leak::Heap),
            _ => None,
        }
    }
}

/// Faults injected on purpose, to prove that loadrun reports them.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Left behind after each stage's close.
    pub leaks: Vec<Leak>,
    /// Consumers stop delivering for this long, 100 ms after publishing
    /// starts (a stalled consumer): the memory bus and core NATS.
    pub stall: Option<std::time::Duration>,
}

/// The injected consumer stall of one stage's bus: from 100 ms after its
/// first publisher is made, consumers deliver nothing for `length`.
pub struct Stall {
    length: Duration,
    from: OnceLock<Instant>,
}

impl Stall {
    pub fn new(length: Option<Duration>) -> Option<Arc<Stall>> {
        length.map(|length| Arc::new(Stall { length, from: OnceLock::new() }))
    }

    /// A publisher was made; the first call sets when the stall begins.
    pub fn begin(&self) {
        let _ = self.from.set(Instant::now() + Duration::from_millis(100));
    }

    /// Returns at once outside the stall, at its end inside it.
    pub async fn wait(&self) {
        let Some(from) = self.from.get() else { return };
        let until = *from + self.length;
        let now = Instant::now();
        if now >= *from && now < until {
            tokio::time::sleep_until(until).await;
        }
    }
}

/// Heap left behind per injected heap leak.
const HEAP_LEAK: usize = 64 << 20;

pub fn wrap(bus: Box<dyn Bus>, faults: &Faults) -> Box<dyn Bus> {
    if faults.leaks.is_empty() {
        bus
    } else {
        Box::new(Leaky { inner: bus, leaks: faults.leaks.clone() })
    }
}

struct Leaky {
    inner: Box<dyn Bus>,
    leaks: Vec<Leak>,
}

fn leak(what: Leak) {
    match what {
        Leak::Thread => {
            let spawned = std::thread::Builder::new().name("leaky-thread".into()).spawn(|| loop {
                std::thread::park();
            });
            drop(spawned);
        }
        Leak::Task => tasks::spawn_detached("leaky-task", std::future::pending()),
        Leak::Fd => {
            if let Ok(file) = std::fs::File::open("/dev/null") {
                std::mem::forget(file);
            }
        }
        Leak::Heap => {
            // black_box: an allocation nobody reads may be optimised away
            let block: &'static mut [u8] = Box::leak(vec![1u8; HEAP_LEAK].into_boxed_slice());
            std::hint::black_box(block);
        }
    }
}

#[async_trait]
impl Bus for Leaky {
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError> {
        self.inner.provision(topics).await
    }

    async fn subscribe(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stop: CancellationToken,
    ) -> Result<(), BusError> {
        self.inner.subscribe(topics, recorder, stop).await
    }

    async fn publisher(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn Publisher>, BusError> {
        self.inner.publisher(topics, recorder).await
    }

    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError> {
        let stuck = self.inner.close(deadline).await?;
        for what in &self.leaks {
            leak(*what);
        }
        Ok(stuck)
    }

    fn events(&self) -> Vec<String> {
        self.inner.events()
    }

    fn losing(&self) -> Option<String> {
        self.inner.losing()
    }
}
