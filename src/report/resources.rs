//! resources.csv: a row per stage and resource, from baseline to settled,
//! with the verdict and the names of whatever was left behind.

use std::fs::File;
use std::io;
use std::path::Path;

use super::Exporter;
use crate::stage::Outcome;

const COLUMNS: [&str; 12] = [
    "stage",
    "bus",
    "resource",
    "baseline",
    "peak",
    "after_close",
    "after_settle",
    "delta",
    "settle_ms",
    "verdict",
    "left_behind",
    "tolerance",
];

pub struct Resources {
    out: csv::Writer<File>,
}

impl Resources {
    pub fn create(dir: &Path) -> io::Result<Resources> {
        let mut out = csv::Writer::from_path(dir.join("resources.csv"))?;
        out.write_record(COLUMNS)?;
        out.flush()?;
        Ok(Resources { out })
    }
}

impl Exporter for Resources {
    fn stage(&mut self, o: &Outcome) -> io::Result<()> {
        let settled = &o.settled;
        for r in &settled.rows {
            self.out.write_record([
                o.stage.as_str(),
                o.bus.as_str(),
                r.resource,
                &r.baseline.to_string(),
                &r.peak.to_string(),
                &r.after_close.to_string(),
                &r.after_settle.to_string(),
                &r.delta().to_string(),
                &settled.settle_ms.to_string(),
                r.verdict.name(),
                &r.left_behind,
                &r.tolerance.to_string(),
            ])?;
        }
        self.out.flush()
    }
}
