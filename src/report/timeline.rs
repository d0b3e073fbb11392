//! timeline.csv: every resource sample of the run, with its time, stage and
//! phase. Written by the probe as each sample is taken: a sample is never
//! held in memory (so a long stage cannot look like a heap leak) and a
//! killed run loses none.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::message::now_ns;
use crate::probe::{Phase, Reading, Resource, TimelineSink, RESOURCES};

#[derive(Clone)]
pub struct Timeline {
    out: Arc<Mutex<csv::Writer<BufWriter<File>>>>,
    start_ns: u64,
}

impl Timeline {
    pub fn create(dir: &Path) -> io::Result<Timeline> {
        let file = BufWriter::new(File::create(dir.join("timeline.csv"))?);
        let mut out = csv::Writer::from_writer(file);
        let mut header = vec!["time_s", "stage", "bus", "phase"];
        header.extend(RESOURCES.iter().map(|r| match r {
            Resource::BusThreads => "bus_threads",
            r => r.name(None),
        }));
        header.push("bus_gauge");
        out.write_record(&header)?;
        out.flush()?;
        Ok(Timeline { out: Arc::new(Mutex::new(out)), start_ns: now_ns() })
    }

    pub fn flush(&self) -> io::Result<()> {
        self.out.lock().flush()
    }
}

impl TimelineSink for Timeline {
    fn sample(&mut self, stage: &str, bus: &str, phase: Phase, r: &Reading, gauge: &str) {
        let t = r.at_ns.saturating_sub(self.start_ns) as f64 / 1e9;
        let mut row = vec![format!("{t:.4}"), stage.into(), bus.into(), phase.name().into()];
        row.extend(r.values.iter().map(|v| v.to_string()));
        row.push(gauge.into());
        // each row goes out whole (one write), so a killed run still leaves
        // valid CSV; a failed write must not stop the run, and the flush at
        // the end of the stage reports it
        let mut out = self.out.lock();
        if out.write_record(&row).is_ok() {
            let _ = out.flush();
        }
    }
}
