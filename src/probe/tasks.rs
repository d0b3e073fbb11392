//! Labels for the async tasks loadrun and its buses start. The runtime can
//! count live tasks but not name them; every task spawned through `spawn`
//! carries a label in this registry until it ends, so a task left behind
//! is named in the verdict.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{LazyLock, Mutex};

use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

static LIVE: LazyLock<Mutex<BTreeMap<&'static str, u64>>> = LazyLock::new(Default::default);

struct Label(&'static str);

impl Label {
    fn new(name: &'static str) -> Label {
        *LIVE.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_insert(0) += 1;
        Label(name)
    }
}

impl Drop for Label {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = live.get_mut(self.0) {
            *n -= 1;
            if *n == 0 {
                live.remove(self.0);
            }
        }
    }
}

/// Spawns a labelled task on `tracker`, so it is both joined by its owner
/// and named if it outlives it.
pub fn spawn<F>(tracker: &TaskTracker, label: &'static str, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let guard = Label::new(label);
    tracker.spawn(async move {
        let _guard = guard;
        fut.await
    })
}

/// Spawns a labelled task that nothing joins: one that lives for the whole
/// run (the signal watcher) or an injected leak.
pub fn spawn_detached<F>(label: &'static str, fut: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let guard = Label::new(label);
    tokio::spawn(async move {
        let _guard = guard;
        fut.await
    });
}

/// The labels of the tasks alive now, with their counts.
pub fn live() -> BTreeMap<&'static str, u64> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
