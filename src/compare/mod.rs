//! `loadrun compare OLD NEW`: two result directories side by side, stage by
//! stage and bus, with the change of every figure in percent. With
//! `--max-regression PCT` it is a gate: exit 1 when a latency rose or a
//! throughput fell by more than PCT percent, or a stage went missing.

mod figure;
mod render;
mod side;

use std::path::PathBuf;

use anyhow::{bail, Result};

use figure::{change_pct, worsening, Figure, FIGURES};
use side::{Side, StageRow};

use crate::runner::{EXIT_FAILED, EXIT_OK};

pub struct CompareOptions {
    pub old: PathBuf,
    pub new: PathBuf,
    pub max_regression: Option<f64>,
    /// Figures shown but not gated.
    pub ignore: Vec<String>,
    pub json: bool,
}

/// One figure of one stage, old against new.
pub struct Change {
    pub figure: &'static Figure,
    pub old: f64,
    pub new: f64,
    pub pct: Option<f64>,
    pub regressed: bool,
}

/// One stage and bus found on both sides.
pub struct Pair {
    pub stage: String,
    pub bus: String,
    pub changes: Vec<Change>,
    pub status: (String, String),
    pub verdict: (String, String),
}

pub struct Comparison {
    pub old: Side,
    pub new: Side,
    pub max_regression: Option<f64>,
    pub pairs: Vec<Pair>,
    pub only_old: Vec<(String, String)>,
    pub only_new: Vec<(String, String)>,
}

/// Compares, prints, and returns the exit status. An error (a directory or
/// file that cannot be read) means nothing was compared.
pub fn run(opts: CompareOptions) -> Result<i32> {
    for name in &opts.ignore {
        if !FIGURES.iter().any(|f| f.name == name) {
            let names: Vec<&str> = FIGURES.iter().map(|f| f.name).collect();
            bail!("--ignore: `{name}` is not a figure: use one of {}", names.join(", "));
        }
    }
    let old = Side::load(&opts.old)?;
    let new = Side::load(&opts.new)?;
    let comparison = Comparison::new(old, new, opts.max_regression, &opts.ignore);
    let exit = if comparison.regressions().is_empty() { EXIT_OK } else { EXIT_FAILED };
    if opts.json {
        println!("{}", render::json(&comparison, exit));
    } else {
        render::table(&comparison);
    }
    Ok(exit)
}

impl Comparison {
    pub fn new(old: Side, new: Side, max_regression: Option<f64>, ignore: &[String]) -> Comparison {
        let key = |r: &StageRow| (r.stage.clone(), r.bus.clone());
        let pairs = old
            .rows
            .iter()
            .filter_map(|o| new.find(&o.stage, &o.bus).map(|n| pair(o, n, max_regression, ignore)))
            .collect();
        let only_old =
            old.rows.iter().filter(|o| new.find(&o.stage, &o.bus).is_none()).map(key).collect();
        let only_new =
            new.rows.iter().filter(|n| old.find(&n.stage, &n.bus).is_none()).map(key).collect();
        Comparison { old, new, max_regression, pairs, only_old, only_new }
    }

    /// One line per reason to fail the gate; empty without a gate.
    pub fn regressions(&self) -> Vec<String> {
        let Some(limit) = self.max_regression else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in &self.pairs {
            for c in p.changes.iter().filter(|c| c.regressed) {
                let verb = if c.new > c.old { "rose" } else { "fell" };
                out.push(format!(
                    "stage {} on {}: {} {verb} {:.1}% ({} -> {}), more than {limit}%",
                    p.stage,
                    p.bus,
                    c.figure.name,
                    c.pct.unwrap_or(0.0).abs(),
                    render::number(c.figure.kind, c.old),
                    render::number(c.figure.kind, c.new),
                ));
            }
        }
        for (stage, bus) in &self.only_old {
            out.push(format!("stage {stage} on {bus}: missing from the new results"));
        }
        out
    }
}

fn pair(old: &StageRow, new: &StageRow, limit: Option<f64>, ignore: &[String]) -> Pair {
    let changes = FIGURES
        .iter()
        .zip(old.figures.iter().zip(&new.figures))
        // a figure one side did not measure (consume = false) is left out
        .filter_map(|(figure, (o, n))| Some((figure, ((*o)?, (*n)?))))
        .map(|(figure, (o, n))| {
            let pct = change_pct(o, n);
            let worse = pct.map(|p| worsening(figure.kind, p)).unwrap_or(0.0);
            Change {
                figure,
                old: o,
                new: n,
                pct,
                regressed: limit.is_some_and(|l| worse > l)
                    && !ignore.iter().any(|i| i == figure.name),
            }
        })
        .collect();
    Pair {
        stage: old.stage.clone(),
        bus: old.bus.clone(),
        changes,
        status: (old.status.clone(), new.status.clone()),
        verdict: (old.verdict.clone(), new.verdict.clone()),
    }
}
