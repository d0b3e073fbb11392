//! The async runtime the stream consumer runs on. rdkafka's consumer starts
//! one helper task from inside its constructor, through a static function
//! with no way to pass an owner in; building the consumer inside
//! `CrewRuntime::within` hands that task to the bus's crew, so it is
//! labelled, tracked and joined like every task the stage starts.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::util::AsyncRuntime;

use crate::crew::Crew;

thread_local! {
    static HOME: RefCell<Option<Arc<Crew>>> = const { RefCell::new(None) };
}

pub struct CrewRuntime;

impl CrewRuntime {
    /// Runs `build` with `crew` as the owner of any task it spawns.
    pub fn within<T>(crew: &Arc<Crew>, build: impl FnOnce() -> T) -> T {
        HOME.with(|home| *home.borrow_mut() = Some(crew.clone()));
        let built = build();
        HOME.with(|home| home.borrow_mut().take());
        built
    }
}

impl AsyncRuntime for CrewRuntime {
    type Delay = tokio::time::Sleep;

    fn spawn<T>(task: T)
    where
        T: Future<Output = ()> + Send + 'static,
    {
        match HOME.with(|home| home.borrow().clone()) {
            Some(crew) => crew.spawn("kafka-consumer-wake", task),
            // only reachable by building a consumer outside `within`; the
            // task only wakes a consumer group member before its poll
            // interval runs out, and loadrun assigns partitions instead
            None => tracing::warn!("a kafka consumer task had no crew and was not started"),
        }
    }

    fn delay_for(duration: Duration) -> Self::Delay {
        tokio::time::sleep(duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_spawned_within_belong_to_the_crew() {
        let crew = Arc::new(Crew::default());
        let token = crew.token();
        CrewRuntime::within(&crew, || {
            CrewRuntime::spawn(async move { token.cancelled().await });
        });
        crew.cancel();
        assert!(crew.join(Duration::from_secs(5)).await.is_empty());
    }
}
