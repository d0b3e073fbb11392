//! timeline.csv: every resource sample of the run, with its time, stage and
//! phase. Written by the probe as each sample is taken: a sample is never
//! held in memory (so a long stage cannot look like a heap leak) and a
//! killed run loses none.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::message::now_ns;
use crate::probe::{Phase, Reading, TimelineSink, RESOURCES};

#[derive(Clone)]
pub struct Timeline {
    out: Arc<Mutex<Sink>>,
    start_ns: u64,
}

struct Sink {
    csv: csv::Writer<File>,
    /// The first failed write: a sample must not stop the run, so it is
    /// kept here and reported at the end of the stage.
    failed: Option<String>,
}

impl Timeline {
    pub fn create(dir: &Path) -> io::Result<Timeline> {
        let mut csv = csv::Writer::from_path(dir.join("timeline.csv"))?;
        let mut header = vec!["time_s", "stage", "bus", "phase"];
        header.extend(RESOURCES.iter().map(|r| r.name(None)));
        header.push("bus_gauge");
        csv.write_record(&header)?;
        csv.flush()?;
        let sink = Sink { csv, failed: None };
        Ok(Timeline { out: Arc::new(Mutex::new(sink)), start_ns: now_ns() })
    }

    /// Whether every sample so far was written.
    pub fn check(&self) -> io::Result<()> {
        match &self.out.lock().failed {
            Some(e) => Err(io::Error::other(e.clone())),
            None => Ok(()),
        }
    }
}

impl TimelineSink for Timeline {
    fn sample(&mut self, stage: &str, bus: &str, phase: Phase, r: &Reading, gauge: &str) {
        let t = r.at_ns.saturating_sub(self.start_ns) as f64 / 1e9;
        let mut row = vec![format!("{t:.4}"), stage.into(), bus.into(), phase.name().into()];
        row.extend(r.values.iter().map(|v| v.to_string()));
        row.push(gauge.into());
        // each row goes out whole (one write), so a killed run still leaves
        // valid CSV
        let mut out = self.out.lock();
        let written = out.csv.write_record(&row).and_then(|()| Ok(out.csv.flush()?));
        if let (Err(e), None) = (written, &out.failed) {
            out.failed = Some(e.to_string());
        }
    }
}
