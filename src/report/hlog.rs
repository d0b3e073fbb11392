//! One HdrHistogram interval log per stage and bus (`<stage>-<bus>.hlog`),
//! in the standard format that HdrHistogram's own tools read and merge:
//! the stage's end-to-end, publish and slip histograms, tagged. `read`
//! brings a log back, so `merge` and `plot` work from the files alone.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{anyhow, Context as _, Result};
use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriter, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use super::Exporter;
use crate::metrics::Hist;
use crate::stage::Outcome;

/// What one stage's log holds: its time span and its tagged histograms.
#[derive(Debug, Default)]
pub struct StageLog {
    /// Since the Unix epoch.
    pub start: Duration,
    pub length: Duration,
    pub hists: Vec<(String, Hist)>,
}

impl StageLog {
    pub fn get(&self, tag: &str) -> Option<&Hist> {
        self.hists.iter().find(|(t, _)| t == tag).map(|(_, h)| h)
    }
}

pub fn file_name(stage: &str, bus: &str) -> String {
    format!("{stage}-{bus}.hlog")
}

pub struct Hlog {
    dir: PathBuf,
}

impl Hlog {
    pub fn new(dir: &Path) -> Hlog {
        Hlog { dir: dir.to_path_buf() }
    }
}

impl Exporter for Hlog {
    /// The stage wrote its intervals while it ran; the slip of a fixed-rate
    /// stage (kept per producer, not per interval) is added as one interval
    /// over the stage. A stage that never published gets a log of whatever
    /// it recorded.
    fn stage(&mut self, o: &Outcome) -> io::Result<()> {
        let Some((e2e, publish, slip)) = &o.hists else {
            return Ok(());
        };
        let path = self.dir.join(file_name(&o.stage, &o.bus));
        let length = Duration::from_secs_f64(o.duration_s.max(0.0));
        if path.exists() {
            return append(&path, "slip", slip, length);
        }
        let log = StageLog {
            start: Duration::from_nanos(o.started_ns),
            length,
            hists: vec![
                ("e2e".into(), e2e.clone()),
                ("publish".into(), publish.clone()),
                ("slip".into(), slip.clone()),
            ],
        };
        write(&path, &o.stage, &o.bus, &log)
    }
}

/// Maximums are shown in microseconds; values stay in nanoseconds.
const MAX_DIVISOR: f64 = 1000.0;

/// The header every loadrun log starts with: a title, and the stage's start
/// as both start and base time (since the Unix epoch).
pub fn header(title: &str, start: Duration) -> IntervalLogWriterBuilder {
    let start = UNIX_EPOCH + start;
    let mut builder = IntervalLogWriterBuilder::new();
    builder
        .add_comment(&format!("loadrun {title}, values in nanoseconds"))
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(MAX_DIVISOR);
    builder
}

/// Writes one tagged interval; an empty histogram is left out.
pub fn put<W: Write>(
    log: &mut IntervalLogWriter<'_, '_, W, V2DeflateSerializer>,
    tag: &str,
    hist: &Hist,
    from: Duration,
    length: Duration,
) -> io::Result<()> {
    if hist.is_empty() {
        return Ok(());
    }
    let tag = Tag::new(tag).ok_or_else(|| io::Error::other(format!("bad tag {tag}")))?;
    log.write_histogram(hist, from, length, Some(tag)).map_err(io::Error::other)
}

/// Appends one tagged interval, from the start of the stage, to a log.
fn append(path: &Path, tag: &str, hist: &Hist, length: Duration) -> io::Result<()> {
    let mut file = BufWriter::new(std::fs::OpenOptions::new().append(true).open(path)?);
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(MAX_DIVISOR)
        .begin_log_with(&mut file, &mut serializer)?;
    put(&mut log, tag, hist, Duration::ZERO, length)?;
    drop(log);
    file.flush()
}

/// Writes a log with one interval per non-empty histogram.
pub fn write(path: &Path, stage: &str, bus: &str, log: &StageLog) -> io::Result<()> {
    let mut file = BufWriter::new(File::create(path)?);
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = header(&format!("stage {stage} on {bus}"), log.start)
        .begin_log_with(&mut file, &mut serializer)?;
    for (tag, hist) in &log.hists {
        put(&mut writer, tag, hist, Duration::ZERO, log.length)?;
    }
    drop(writer);
    file.flush()
}

/// Reads a log back. Intervals with the same tag are added together, so a
/// log with several intervals per tag reads as their sum.
pub fn read(path: &Path) -> Result<StageLog> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = |what: String| anyhow!("{}: {what}", path.display());
    let mut log = StageLog::default();
    let (mut base, mut first, mut last) = (Duration::ZERO, None::<Duration>, Duration::ZERO);
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| bad(format!("not an interval log ({e:?})")))?;
        let interval = match entry {
            LogEntry::StartTime(t) if base.is_zero() => {
                base = t;
                continue;
            }
            LogEntry::BaseTime(t) => {
                base = t;
                continue;
            }
            LogEntry::StartTime(_) => continue,
            LogEntry::Interval(i) => i,
        };
        let tag = interval.tag().map(|t| t.as_str()).unwrap_or("e2e").to_string();
        let encoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| bad(format!("histogram '{tag}' is not base64 ({e})")))?;
        let hist: Hist = deserializer
            .deserialize(&mut encoded.as_slice())
            .map_err(|e| bad(format!("histogram '{tag}' cannot be decoded ({e:?})")))?;
        let begin = base + interval.start_timestamp();
        first = Some(first.map_or(begin, |f| f.min(begin)));
        last = last.max(begin + interval.duration());
        add(&mut log, &tag, &hist).map_err(|e| bad(format!("histogram '{tag}': {e}")))?;
    }
    log.start = first.unwrap_or(base);
    log.length = last.saturating_sub(log.start);
    Ok(log)
}

/// Adds `hist` into the histogram tagged `tag`, making it when missing.
pub fn add(log: &mut StageLog, tag: &str, hist: &Hist) -> Result<()> {
    match log.hists.iter_mut().find(|(t, _)| t == tag) {
        Some((_, mine)) => mine.add(hist).map_err(|e| anyhow!("cannot add ({e:?})")),
        None => {
            let mut mine = crate::metrics::new_hist();
            mine.add(hist).map_err(|e| anyhow!("cannot add ({e:?})"))?;
            log.hists.push((tag.to_string(), mine));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_log_reads_back_with_the_same_histograms_and_span() {
        let dir = tempfile::tempdir().unwrap();
        let mut e2e = crate::metrics::new_hist();
        for ns in [1_000, 20_000, 3_000_000] {
            e2e.record(ns).unwrap();
        }
        let log = StageLog {
            start: Duration::from_secs(1_700_000_000),
            length: Duration::from_millis(1500),
            hists: vec![("e2e".into(), e2e.clone())],
        };
        let path = dir.path().join("s-memory.hlog");
        write(&path, "s", "memory", &log).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.get("e2e").unwrap(), &e2e);
        assert!(back.get("publish").is_none());
        assert_eq!(back.start.as_secs(), 1_700_000_000);
        assert_eq!(back.length.as_millis(), 1500);
    }

    #[test]
    fn a_file_that_is_not_a_log_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.hlog");
        std::fs::write(&path, "1.0,2.0,3.0,@@@\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("x.hlog"), "{e}");
    }
}
