//! comparison.csv, for a scenario that runs its stages on several buses:
//! one row per stage with each bus's figures side by side (throughput,
//! end-to-end latency, loss, what the stage left behind and the verdict).
//! The runner finishes every stage of one bus before the next bus starts,
//! so the file is rewritten whole after every stage; a run that dies keeps
//! the cells it had filled.

use std::io;
use std::path::{Path, PathBuf};

use super::{num, table, Exporter};
use crate::scenario::Scenario;
use crate::stage::Outcome;

/// The figures per bus, in column order; the CSV column is `<bus>_<name>`.
const FIGURES: [&str; 11] = [
    "status",
    "throughput_msg_s",
    "e2e_p50_us",
    "e2e_p99_us",
    "e2e_max_us",
    "lost",
    "threads_delta",
    "tasks_delta",
    "fds_delta",
    "heap_delta",
    "verdict",
];

/// Resources whose change from baseline to settled is compared.
const DELTAS: [&str; 4] = ["threads", "tasks", "fds", "heap_bytes"];

/// Each bus's figures for every stage, filled in as stages finish.
struct Grid {
    buses: Vec<String>,
    stages: Vec<String>,
    /// `[stage][bus]`
    cells: Vec<Vec<Option<Vec<String>>>>,
}

impl Grid {
    fn new(scenario: &Scenario) -> Grid {
        let stages: Vec<String> = scenario.stages.iter().map(|s| s.name.clone()).collect();
        let buses = labels(scenario.buses.iter().map(|b| b.label()));
        let cells = vec![vec![None; buses.len()]; stages.len()];
        Grid { buses, stages, cells }
    }

    /// Places the `position`-th outcome of the run: the runner goes bus by
    /// bus, and every stage in order on each.
    fn place(&mut self, position: usize, outcome: &Outcome) {
        let n = self.stages.len().max(1);
        let (bus, stage) = (position / n, position % n);
        if let Some(cell) = self.cells.get_mut(stage).and_then(|row| row.get_mut(bus)) {
            *cell = Some(figures(outcome));
        }
    }
}

/// Bus labels made unique, so two NATS servers compared stay two columns.
fn labels(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let taken = out.iter().filter(|l| l.split('#').next() == Some(name.as_str())).count();
        out.push(if taken == 0 { name } else { format!("{name}#{}", taken + 1) });
    }
    out
}

fn figures(o: &Outcome) -> Vec<String> {
    let delta = |resource: &str| {
        let rows = o.settled.rows.iter();
        rows.into_iter().find(|r| r.resource == resource).map(|r| r.delta().to_string())
    };
    let d = |text: String| o.measured(text).unwrap_or_default();
    let mut cells = vec![
        o.status.name().to_string(),
        num(o.throughput()),
        d(num(o.e2e.p50_us)),
        d(num(o.e2e.p99_us)),
        d(num(o.e2e.max_us)),
        d(o.counts.lost.to_string()),
    ];
    cells.extend(DELTAS.iter().map(|r| delta(r).unwrap_or_default()));
    cells.push(o.verdict().name().to_string());
    cells
}

pub struct Comparison {
    path: PathBuf,
    grid: Grid,
    seen: usize,
}

impl Comparison {
    pub fn create(dir: &Path, scenario: &Scenario) -> io::Result<Comparison> {
        let mut comparison =
            Comparison { path: dir.join("comparison.csv"), grid: Grid::new(scenario), seen: 0 };
        comparison.write()?;
        Ok(comparison)
    }

    fn write(&mut self) -> io::Result<()> {
        let tmp = self.path.with_extension("csv.tmp");
        let mut out = csv::Writer::from_path(&tmp)?;
        let mut header = vec!["stage".to_string()];
        for bus in &self.grid.buses {
            header.extend(FIGURES.iter().map(|f| format!("{bus}_{f}")));
        }
        out.write_record(&header)?;
        for (stage, row) in self.grid.stages.iter().zip(&self.grid.cells) {
            if row.iter().all(|c| c.is_none()) {
                continue;
            }
            let mut record = vec![stage.clone()];
            for cell in row {
                match cell {
                    Some(values) => record.extend(values.iter().cloned()),
                    None => record.extend(FIGURES.iter().map(|_| String::new())),
                }
            }
            out.write_record(&record)?;
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&tmp, &self.path)
    }
}

impl Exporter for Comparison {
    fn stage(&mut self, outcome: &Outcome) -> io::Result<()> {
        self.grid.place(self.seen, outcome);
        self.seen += 1;
        self.write()
    }
}

/// The comparison on stdout: a block of rows per stage, one row per
/// figure, one column per bus.
pub fn print_comparison(outcomes: &[Outcome], scenario: &Scenario) {
    let mut grid = Grid::new(scenario);
    for (position, outcome) in outcomes.iter().enumerate() {
        grid.place(position, outcome);
    }
    let names = ["status", "throughput/s", "e2e p50 us", "e2e p99 us", "e2e max us", "lost"];
    let names = names.into_iter().chain(["threads +", "tasks +", "fds +", "heap +", "verdict"]);
    let names: Vec<&str> = names.collect();
    let mut rows = Vec::new();
    for (stage, row) in grid.stages.iter().zip(&grid.cells) {
        for (i, name) in names.iter().enumerate() {
            let mut line =
                vec![if i == 0 { stage.clone() } else { String::new() }, name.to_string()];
            line.extend(row.iter().map(|c| c.as_ref().map(|v| v[i].clone()).unwrap_or_default()));
            rows.push(line);
        }
    }
    let mut header = vec!["stage", "figure"];
    header.extend(grid.buses.iter().map(|b| b.as_str()));
    println!();
    table::print_table(&header, &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_bus_labels_are_numbered() {
        let names = ["nats", "memory", "nats", "nats"].map(String::from);
        assert_eq!(labels(names.into_iter()), ["nats", "memory", "nats#2", "nats#3"]);
    }
}
