//! The stage's HdrHistogram interval log, written while the stage runs:
//! every second the recorder's current interval of end-to-end and publish
//! latency is appended, tagged, to `<stage>-<bus>.hlog`, so HdrHistogram's
//! own tools can show how latency moved during the stage (a stall shows in
//! the intervals it happened in). Written as it goes: nothing per interval
//! is held in memory, so a long stage does not look like a heap leak.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use tokio_util::sync::CancellationToken;

use crate::message::now_ns;
use crate::metrics::Recorder;

pub const EVERY: Duration = Duration::from_secs(1);

/// Writes intervals until `stop`, then the last one. A log that cannot be
/// written is a warning; the stage's figures do not depend on it.
pub async fn write(
    path: PathBuf,
    title: String,
    recorder: Arc<Recorder>,
    start_ns: u64,
    stop: CancellationToken,
) {
    if let Err(e) = intervals(&path, &title, &recorder, start_ns, &stop).await {
        tracing::warn!("cannot write the interval log {}: {e}", path.display());
    }
}

async fn intervals(
    path: &PathBuf,
    title: &str,
    recorder: &Recorder,
    start_ns: u64,
    stop: &CancellationToken,
) -> io::Result<()> {
    let mut file = BufWriter::new(File::create(path)?);
    let mut serializer = V2DeflateSerializer::new();
    let start = UNIX_EPOCH + Duration::from_nanos(start_ns);
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment(&format!("loadrun {title}, values in nanoseconds, one interval a second"))
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut file, &mut serializer)?;
    let mut from = Duration::ZERO;
    loop {
        let last = tokio::select! {
            _ = tokio::time::sleep(EVERY) => false,
            _ = stop.cancelled() => true,
        };
        let now = Duration::from_nanos(now_ns().saturating_sub(start_ns));
        let (e2e, publish) = recorder.rotate();
        for (tag, hist) in [("e2e", &e2e), ("publish", &publish)] {
            if !hist.is_empty() {
                log.write_histogram(hist, from, now.saturating_sub(from), Tag::new(tag))
                    .map_err(io::Error::other)?;
            }
        }
        from = now;
        if last {
            break;
        }
    }
    drop(log);
    file.flush()
}
