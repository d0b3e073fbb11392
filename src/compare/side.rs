//! One side of a comparison: a result directory read into a row per stage
//! and bus, with the figures `compare` shows and the stage's leak verdict.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::figure::FIGURES;
use crate::probe::Verdict;
use crate::report::read::{self, Table};

#[derive(Debug, Clone)]
pub struct StageRow {
    pub stage: String,
    pub bus: String,
    /// In the order of `FIGURES`.
    /// None where the stage did not measure the figure.
    pub figures: Vec<Option<f64>>,
    pub status: String,
    pub verdict: String,
}

#[derive(Debug)]
pub struct Side {
    pub dir: PathBuf,
    pub rows: Vec<StageRow>,
}

impl Side {
    pub fn load(dir: &Path) -> Result<Side> {
        read::result_dir(dir)?;
        let mut required = vec!["stage", "bus", "status"];
        required.extend(FIGURES.iter().map(|f| f.name));
        let summary = Table::read(&dir.join("summary.csv"), &required)?;
        let verdicts = Verdicts::load(dir)?;
        let mut rows: Vec<StageRow> = Vec::new();
        for row in &summary.rows {
            let stage = summary.text(row, "stage").to_string();
            let bus = summary.text(row, "bus").to_string();
            if rows.iter().any(|r| r.stage == stage && r.bus == bus) {
                bail!(
                    "{}:{}: a second row for stage '{stage}' on {bus}",
                    summary.path.display(),
                    row.line
                );
            }
            let figures = FIGURES
                .iter()
                .map(|f| summary.measured(row, f.name))
                .collect::<Result<Vec<_>>>()?;
            let verdict = match &verdicts {
                Some(v) => v.of(&stage, &bus),
                None => summary.text(row, "verdict").to_string(),
            };
            rows.push(StageRow {
                status: summary.text(row, "status").to_string(),
                verdict: if verdict.is_empty() { "-".into() } else { verdict },
                stage,
                bus,
                figures,
            });
        }
        Ok(Side { dir: dir.to_path_buf(), rows })
    }

    pub fn find(&self, stage: &str, bus: &str) -> Option<&StageRow> {
        self.rows.iter().find(|r| r.stage == stage && r.bus == bus)
    }
}

/// The verdict of every stage from resources.csv: the worst of its rows
/// (a merged directory has a row per runner as well).
struct Verdicts {
    rows: Vec<(String, String, Verdict)>,
}

impl Verdicts {
    /// None when the directory has no resources.csv (then the summary's
    /// own verdict column is used).
    fn load(dir: &Path) -> Result<Option<Verdicts>> {
        let path = dir.join("resources.csv");
        if !path.exists() {
            return Ok(None);
        }
        let table = Table::read(&path, &["stage", "bus", "verdict"])?;
        let mut rows = Vec::new();
        for row in &table.rows {
            let text = table.text(row, "verdict");
            let Some(verdict) = Verdict::parse(text) else {
                bail!(
                    "{}:{}: column 'verdict': `{text}` is not clean, leaked or unsettled",
                    path.display(),
                    row.line
                );
            };
            rows.push((
                table.text(row, "stage").to_string(),
                table.text(row, "bus").to_string(),
                verdict,
            ));
        }
        Ok(Some(Verdicts { rows }))
    }

    fn of(&self, stage: &str, bus: &str) -> String {
        self.rows
            .iter()
            .filter(|(s, b, _)| s == stage && b == bus)
            .map(|(_, _, v)| *v)
            .max()
            .map_or("-", Verdict::name)
            .to_string()
    }
}
