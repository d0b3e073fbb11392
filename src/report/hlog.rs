//! One HdrHistogram interval log per stage and bus (`<stage>-<bus>.hlog`),
//! in the standard format that HdrHistogram's own tools read and merge:
//! the stage's end-to-end, publish and slip histograms, tagged.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;

use super::Exporter;
use crate::stage::Outcome;

pub struct Hlog {
    dir: PathBuf,
}

impl Hlog {
    pub fn new(dir: &Path) -> Hlog {
        Hlog { dir: dir.to_path_buf() }
    }
}

impl Exporter for Hlog {
    fn stage(&mut self, o: &Outcome) -> io::Result<()> {
        let Some((e2e, publish, slip)) = &o.hists else {
            return Ok(());
        };
        let path = self.dir.join(format!("{}-{}.hlog", o.stage, o.bus));
        let mut file = BufWriter::new(File::create(path)?);
        let start = UNIX_EPOCH + Duration::from_nanos(o.started_ns);
        let mut serializer = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(&format!("loadrun stage {} on {}, values in nanoseconds", o.stage, o.bus))
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut file, &mut serializer)
            .map_err(io::Error::other)?;
        let length = Duration::from_secs_f64(o.duration_s.max(0.0));
        for (name, hist) in [("e2e", e2e), ("publish", publish), ("slip", slip)] {
            if hist.is_empty() {
                continue;
            }
            log.write_histogram(hist, Duration::ZERO, length, Tag::new(name))
                .map_err(io::Error::other)?;
        }
        drop(log);
        file.flush()
    }
}
