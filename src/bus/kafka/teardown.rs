//! Ending librdkafka cleanly. Destroying a client joins its threads, so it
//! blocks; it runs on tokio's blocking pool, never on a runtime worker.
//! librdkafka counts its own threads process-wide; the bus is closed when
//! that count is back to zero, and the probe reports the same count.

use std::time::{Duration, Instant};

/// librdkafka's threads alive in this process, all clients together.
pub fn thread_count() -> u64 {
    // SAFETY: reads a global atomic counter; callable at any time
    let count = unsafe { rdkafka::bindings::rd_kafka_thread_cnt() };
    count.max(0) as u64
}

/// Runs a blocking librdkafka call (metadata, flush, destroy) off the
/// runtime's worker threads.
///
/// # Cancel safety
/// Dropping the future leaves the call running to its end on the pool.
pub async fn off_worker<T, F>(call: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::task::spawn_blocking(call).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // the pool only cancels a call when the runtime shuts down
        Err(e) => panic!("a blocking kafka call was cancelled: {e}"),
    }
}

/// Waits until librdkafka has no thread left, or `deadline`; the error is
/// the count still alive then.
pub async fn threads_gone(deadline: Instant) -> Result<(), u64> {
    loop {
        let alive = thread_count();
        if alive == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(alive);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
