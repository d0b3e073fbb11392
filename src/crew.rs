//! Structured concurrency for a stage or a bus: one cancellation token, one
//! tracker, and a label on every task, so the owner can cancel everything it
//! started, wait for it with a deadline, and name whatever did not exit.

use std::future::Future;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::probe::{self, tasks};

pub struct Crew {
    token: CancellationToken,
    tracker: TaskTracker,
    handles: Mutex<Vec<(&'static str, AbortHandle)>>,
}

impl Default for Crew {
    fn default() -> Self {
        Crew::new(CancellationToken::new())
    }
}

impl Crew {
    pub fn new(token: CancellationToken) -> Crew {
        Crew { token, tracker: TaskTracker::new(), handles: Mutex::new(Vec::new()) }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Spawns a labelled, tracked task.
    pub fn spawn<F>(&self, label: &'static str, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tasks::spawn(&self.tracker, label, fut);
        let mut handles = self.handles.lock();
        handles.retain(|(_, h)| !h.is_finished());
        handles.push((label, handle.abort_handle()));
    }

    /// Waits up to `deadline` for every task to end. Tasks still running
    /// then are aborted and their labels returned, counted.
    ///
    /// # Cancel safety
    /// Dropping this future leaves the tasks running; call it again.
    pub async fn join(&self, deadline: Duration) -> Vec<String> {
        self.tracker.close();
        if tokio::time::timeout(deadline, self.tracker.wait()).await.is_ok() {
            self.handles.lock().clear();
            return Vec::new();
        }
        let stuck: Vec<(&'static str, AbortHandle)> = {
            let mut handles = self.handles.lock();
            handles.retain(|(_, h)| !h.is_finished());
            std::mem::take(&mut *handles)
        };
        let mut counts = std::collections::BTreeMap::new();
        for (label, handle) in &stuck {
            handle.abort();
            *counts.entry(*label).or_insert(0) += 1;
        }
        // aborted tasks end at their next await; give them a moment to go
        let _ = tokio::time::timeout(Duration::from_millis(200), self.tracker.wait()).await;
        probe::tally(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_task_that_ignores_cancellation() {
        let crew = Crew::default();
        let token = crew.token();
        crew.spawn("polite", async move { token.cancelled().await });
        crew.spawn("stubborn", std::future::pending());
        crew.cancel();
        let stuck = crew.join(Duration::from_millis(50)).await;
        assert_eq!(stuck, vec!["stubborn".to_string()]);
    }
}
