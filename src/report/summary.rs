//! summary.csv: a row per stage and bus. The first seventeen columns are
//! fixed by DESIGN.md; the rest are added after them.

use std::fs::File;
use std::io;
use std::path::Path;

use super::{num, Exporter};
use crate::stage::Outcome;

pub const COLUMNS: [&str; 30] = [
    "stage",
    "bus",
    "messages",
    "sent",
    "received",
    "lost",
    "duplicated",
    "reordered",
    "errors",
    "duration_s",
    "send_rate",
    "receive_rate",
    "e2e_p50_us",
    "e2e_p99_us",
    "e2e_max_us",
    "publish_p99_us",
    "status",
    "acked",
    "foreign",
    "send_mib_s",
    "receive_mib_s",
    "e2e_p90_us",
    "e2e_p999_us",
    "e2e_mean_us",
    "publish_p50_us",
    "publish_max_us",
    "slip_p99_us",
    "slip_max_us",
    "verdict",
    "reason",
];

pub struct Summary {
    out: csv::Writer<File>,
}

impl Summary {
    pub fn create(dir: &Path) -> io::Result<Summary> {
        let mut out = csv::Writer::from_path(dir.join("summary.csv"))?;
        out.write_record(COLUMNS)?;
        out.flush()?;
        Ok(Summary { out })
    }
}

impl Exporter for Summary {
    fn stage(&mut self, o: &Outcome) -> io::Result<()> {
        let c = &o.counts;
        let mib = |bytes: u64, over: f64| num(bytes as f64 / (1 << 20) as f64 / over.max(1e-9));
        // a figure the stage did not measure is an empty cell
        let d = |text: String| o.measured(text).unwrap_or_default();
        let row = [
            o.stage.clone(),
            o.bus.clone(),
            o.messages.to_string(),
            c.sent.to_string(),
            d(c.received.to_string()),
            d(c.lost.to_string()),
            d(c.duplicated.to_string()),
            d(c.reordered.to_string()),
            c.errors.to_string(),
            format!("{:.3}", o.duration_s),
            num(o.send_rate),
            d(num(o.receive_rate)),
            d(num(o.e2e.p50_us)),
            d(num(o.e2e.p99_us)),
            d(num(o.e2e.max_us)),
            num(o.publish.p99_us),
            o.status.name().to_string(),
            c.acked.to_string(),
            d(c.foreign.to_string()),
            mib(c.bytes_sent, o.duration_s),
            d(mib(c.bytes_received, o.duration_s)),
            d(num(o.e2e.p90_us)),
            d(num(o.e2e.p999_us)),
            d(num(o.e2e.mean_us)),
            num(o.publish.p50_us),
            num(o.publish.max_us),
            num(o.slip.p99_us),
            num(o.slip.max_us),
            o.verdict().name().to_string(),
            o.reason.clone(),
        ];
        self.out.write_record(&row)?;
        self.out.flush()
    }
}
