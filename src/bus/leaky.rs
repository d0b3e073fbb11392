//! Leak injection, for proving the verdict: a wrapper around any bus that,
//! after the real close, deliberately leaves behind a thread, a task, a
//! file descriptor or heap memory. Reached only through the hidden
//! `--inject-leak` flag; a run without it never wraps the bus.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
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

pub type LeakSet = Vec<Leak>;

/// Heap left behind per injected heap leak.
const HEAP_LEAK: usize = 64 << 20;

pub fn wrap(bus: Box<dyn Bus>, leaks: &LeakSet) -> Box<dyn Bus> {
    if leaks.is_empty() {
        bus
    } else {
        Box::new(Leaky {
            inner: bus,
            leaks: leaks.clone(),
        })
    }
}

struct Leaky {
    inner: Box<dyn Bus>,
    leaks: LeakSet,
}

fn leak(what: Leak) {
    match what {
        Leak::Thread => {
            let spawned = std::thread::Builder::new()
                .name("leaky-thread".into())
                .spawn(|| loop {
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
            let block = vec![1u8; HEAP_LEAK];
            std::mem::forget(block);
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
}
