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
use std::time::Duration;

use hdrhistogram::serialization::V2DeflateSerializer;
use tokio_util::sync::CancellationToken;

use crate::message::now_ns;
use crate::metrics::Recorder;
use crate::report::hlog;

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
    let title = format!("{title}, one interval a second");
    let mut log = hlog::header(&title, Duration::from_nanos(start_ns))
        .begin_log_with(&mut file, &mut serializer)?;
    let mut from = Duration::ZERO;
    loop {
        let last = tokio::select! {
            _ = tokio::time::sleep(EVERY) => false,
            _ = stop.cancelled() => true,
        };
        let now = Duration::from_nanos(now_ns().saturating_sub(start_ns));
        let (e2e, publish) = recorder.rotate();
        let length = now.saturating_sub(from);
        hlog::put(&mut log, "e2e", &e2e, from, length)?;
        hlog::put(&mut log, "publish", &publish, from, length)?;
        from = now;
        if last {
            break;
        }
    }
    drop(log);
    file.flush()
}
