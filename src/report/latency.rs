//! latency.csv: the percentile distribution of each stage's histograms
//! (end to end, publish, and the send slip of a fixed-rate stage).

use std::fs::File;
use std::io;
use std::path::Path;

use super::{num, Exporter};
use crate::metrics::Hist;
use crate::stage::Outcome;

const PERCENTILES: [f64; 17] = [
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 90.0, 95.0, 99.0, 99.9, 99.99,
    99.999, 100.0,
];

pub struct Latency {
    out: csv::Writer<File>,
}

impl Latency {
    pub fn create(dir: &Path) -> io::Result<Latency> {
        let mut out = csv::Writer::from_path(dir.join("latency.csv"))?;
        out.write_record(["stage", "bus", "histogram", "percentile", "value_us", "count"])?;
        out.flush()?;
        Ok(Latency { out })
    }

    /// Writes one histogram's distribution (nothing for an empty one).
    pub fn write(&mut self, stage: &str, bus: &str, name: &str, hist: &Hist) -> io::Result<()> {
        if hist.is_empty() {
            return Ok(());
        }
        for p in PERCENTILES {
            let value = hist.value_at_quantile(p / 100.0);
            let count = hist.count_between(0, value);
            self.out.write_record([
                stage,
                bus,
                name,
                &format!("{p}"),
                &num(value as f64 / 1000.0),
                &count.to_string(),
            ])?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Exporter for Latency {
    fn stage(&mut self, o: &Outcome) -> io::Result<()> {
        if let Some((e2e, publish, slip)) = &o.hists {
            for (name, hist) in [("e2e", e2e), ("publish", publish), ("slip", slip)] {
                self.write(&o.stage, &o.bus, name, hist)?;
            }
        }
        self.out.flush()
    }
}
