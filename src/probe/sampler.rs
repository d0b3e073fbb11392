//! The background sampler: one OS thread, started before the first baseline
//! and stopped after the last stage, that reads the probe at a fixed
//! interval so the timeline and the peak see what happens between phases.
//! It is a thread, not a task, so it never counts as a task of a stage.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::Probe;

pub struct Sampler {
    running: Arc<AtomicBool>,
    active: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    pub fn start(probe: Arc<Probe>, every: Duration) -> std::io::Result<Sampler> {
        let running = Arc::new(AtomicBool::new(true));
        let active = Arc::new(AtomicBool::new(false));
        let (run, act) = (running.clone(), active.clone());
        let thread = std::thread::Builder::new().name("loadrun-probe".into()).spawn(move || {
            while run.load(Ordering::Acquire) {
                std::thread::park_timeout(every);
                if act.load(Ordering::Acquire) && run.load(Ordering::Acquire) {
                    probe.sample();
                }
            }
        })?;
        Ok(Sampler { running, active, thread: Some(thread) })
    }

    /// Sampling on (during a stage's work) or off (while the settle takes
    /// its own readings, which are the ones the verdict rests on).
    pub fn active(&self, on: bool) {
        self.active.store(on, Ordering::Release);
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
