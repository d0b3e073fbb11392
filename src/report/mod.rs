//! Result files: one exporter per file behind one trait, each appending and
//! flushing a finished stage's rows at once, so a run that dies keeps every
//! stage it finished. The directory is new for every run and never reused.

mod comparison;
pub mod hlog;
pub mod latency;
pub mod plot;
pub mod read;
mod resolved;
mod resources;
pub mod summary;
mod table;
mod timeline;

pub use comparison::print_comparison;
pub use table::{print_checks, print_summary, summary_json};
pub use timeline::Timeline;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::scenario::Scenario;
use crate::stage::Outcome;

/// A writer for one result file.
pub trait Exporter {
    fn stage(&mut self, outcome: &Outcome) -> io::Result<()>;
}

pub struct Results {
    pub dir: PathBuf,
    exporters: Vec<Box<dyn Exporter>>,
}

impl Results {
    /// Makes `root/<scenario>-<UTC time>/` and opens every result file, so
    /// an unwritable place fails before any load starts.
    pub fn create(root: &Path, scenario: &Scenario) -> Result<(Results, Timeline)> {
        fs::create_dir_all(root)
            .with_context(|| format!("cannot create the results directory {}", root.display()))?;
        let stamp = utc_stamp(std::time::SystemTime::now());
        let dir = unique_dir(root, &format!("{}-{stamp}", scenario.name))?;
        fs::write(dir.join("scenario.toml"), resolved::render(scenario))
            .with_context(|| format!("cannot write into {}", dir.display()))?;
        let mut exporters: Vec<Box<dyn Exporter>> = vec![
            Box::new(summary::Summary::create(&dir)?),
            Box::new(resources::Resources::create(&dir)?),
            Box::new(latency::Latency::create(&dir)?),
            Box::new(hlog::Hlog::new(&dir)),
        ];
        if scenario.buses.len() > 1 {
            exporters.push(Box::new(comparison::Comparison::create(&dir, scenario)?));
        }
        let timeline = Timeline::create(&dir)?;
        Ok((Results { dir, exporters }, timeline))
    }

    pub fn record(&mut self, outcome: &Outcome) -> Result<()> {
        for exporter in &mut self.exporters {
            exporter
                .stage(outcome)
                .with_context(|| format!("cannot write results into {}", self.dir.display()))?;
        }
        Ok(())
    }
}

fn unique_dir(root: &Path, name: &str) -> Result<PathBuf> {
    for n in 1..1000 {
        let dir = match n {
            1 => root.join(name),
            n => root.join(format!("{name}-{n}")),
        };
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", dir.display()));
            }
        }
    }
    anyhow::bail!("too many result directories named {name} in {}", root.display())
}

/// `20261203T163626Z`, without a date crate.
pub fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // civil-from-days, after Howard Hinnant's published algorithm
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rest / 3600, rest / 60 % 60, rest % 60);
    format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}Z")
}

/// Numbers in CSV: integers stay integers, rates and latencies get one
/// decimal.
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "0.0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn stamps_are_utc_calendar_times() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_315_786);
        assert_eq!(utc_stamp(t), "20261203T163626Z");
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
    }
}
