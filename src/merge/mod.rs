//! `loadrun merge DIR... --out DIR`: the result directories of several
//! runners of one scenario (other machines or processes, each with its own
//! topics, since the run id is in every topic name) combined into one.
//!
//! What combines, combines losslessly: histograms are added from the .hlog
//! files and the percentiles recomputed from the sums; counts and rates
//! are summed. What does not, is not faked: resources belong to one
//! process, so resources.csv gets every runner's rows with a `runner`
//! column, never a sum, and timelines stay in the runners' directories.

mod stage;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::report::hlog::{self, StageLog};
use crate::report::latency::Latency;
use crate::report::read::{self, Table};
use crate::report::summary::COLUMNS;
use crate::runner::EXIT_OK;

/// One runner's result directory.
pub struct Input {
    pub dir: PathBuf,
    pub runner: String,
    pub summary: Table,
    resources: Option<Table>,
}

pub fn run(dirs: &[PathBuf], out: &Path) -> Result<i32> {
    let inputs = load(dirs)?;
    let scenario = same_scenario(&inputs)?;
    make_out(out)?;

    let keys = stage_keys(&inputs);
    let mut summary = csv::Writer::from_path(out.join("summary.csv"))
        .with_context(|| format!("cannot write into {}", out.display()))?;
    summary.write_record(COLUMNS)?;
    let mut latency = Latency::create(out)?;
    for (stage_name, bus) in &keys {
        let merged = stage::merge(&inputs, stage_name, bus)?;
        if merged.runners < inputs.len() {
            eprintln!(
                "loadrun: stage {stage_name} on {bus} is in {} of {} directories; merged what \
                 there is",
                merged.runners,
                inputs.len()
            );
        }
        summary.write_record(&merged.row)?;
        for (tag, hist) in &merged.log.hists {
            latency.write(stage_name, bus, tag, hist)?;
        }
        if !merged.log.hists.is_empty() {
            let path = out.join(hlog::file_name(stage_name, bus));
            hlog::write(&path, stage_name, bus, &merged.log)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    summary.flush()?;
    latency.flush()?;
    resources(&inputs, out)?;
    if let Some(text) = scenario {
        fs::write(out.join("scenario.toml"), text)?;
    }
    fs::write(out.join("merged.txt"), note(&inputs))?;
    if let Err(e) = crate::report::plot::draw(out) {
        eprintln!("loadrun: warning: cannot draw plot.svg: {e:#}");
    }
    println!(
        "merged {} stage(s) from {} directories into {}",
        keys.len(),
        inputs.len(),
        out.display()
    );
    Ok(EXIT_OK)
}

fn load(dirs: &[PathBuf]) -> Result<Vec<Input>> {
    let mut inputs: Vec<Input> = Vec::new();
    for dir in dirs {
        read::result_dir(dir)?;
        let summary = Table::read(&dir.join("summary.csv"), &COLUMNS)?;
        let path = dir.join("resources.csv");
        let resources = if path.exists() {
            Some(Table::read(&path, &["stage", "bus", "resource"])?)
        } else {
            None
        };
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "runner".into());
        let mut runner = base.clone();
        for n in 2.. {
            if !inputs.iter().any(|i| i.runner == runner) {
                break;
            }
            runner = format!("{base}-{n}");
        }
        inputs.push(Input { dir: dir.clone(), runner, summary, resources });
    }
    Ok(inputs)
}

/// The resolved scenario all runners share, or an error when they ran
/// different ones (a merge of unlike runs would mean nothing).
fn same_scenario(inputs: &[Input]) -> Result<Option<String>> {
    // (directory, text, text without the comment lines)
    let mut first: Option<(&Path, String, String)> = None;
    for input in inputs {
        let path = input.dir.join("scenario.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            eprintln!("loadrun: warning: {} is missing; cannot check the scenario", path.display());
            continue;
        };
        // the first line names the file it came from, which may differ
        let body: String = text.lines().filter(|l| !l.starts_with('#')).collect();
        match &first {
            None => first = Some((&input.dir, text, body)),
            Some((dir, _, seen)) => {
                if *seen != body {
                    bail!(
                        "{} and {} ran different scenarios (their scenario.toml differ): \
                         merge combines runners of one scenario",
                        dir.display(),
                        input.dir.display()
                    );
                }
            }
        }
    }
    Ok(first.map(|(_, text, _)| text))
}

fn make_out(out: &Path) -> Result<()> {
    if out.exists() && fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{}: already exists and is not empty; merge never overwrites", out.display());
    }
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}

/// Every stage and bus, in the order the runners ran them.
fn stage_keys(inputs: &[Input]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for input in inputs {
        let t = &input.summary;
        for row in &t.rows {
            let key = (t.text(row, "stage").to_string(), t.text(row, "bus").to_string());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// resources.csv: every runner's rows as they were, with a `runner` column.
fn resources(inputs: &[Input], out: &Path) -> Result<()> {
    let Some(header) = inputs.iter().find_map(|i| i.resources.as_ref()).map(|t| {
        let mut h: Vec<String> = t.header.iter().filter(|c| *c != "runner").cloned().collect();
        h.push("runner".into());
        h
    }) else {
        return Ok(());
    };
    let mut w = csv::Writer::from_path(out.join("resources.csv"))?;
    w.write_record(&header)?;
    for input in inputs {
        let Some(t) = &input.resources else { continue };
        for row in &t.rows {
            let cells: Vec<&str> = header
                .iter()
                .map(|c| match (c.as_str(), t.text(row, c)) {
                    ("runner", "") => input.runner.as_str(),
                    (_, v) => v,
                })
                .collect();
            w.write_record(&cells)?;
        }
    }
    w.flush()?;
    Ok(())
}

fn note(inputs: &[Input]) -> String {
    let mut text = String::from(
        "merged by loadrun: histograms added from the .hlog files, percentiles recomputed,\n\
         counts and rates summed, duration_s the longest runner's. resources.csv holds every\n\
         runner's own rows (column runner), never sums; timelines stay in the runners' \
         directories.\n\nrunners:\n",
    );
    for input in inputs {
        text.push_str(&format!("{}\t{}\n", input.runner, input.dir.display()));
    }
    text
}

/// Reads a runner's log of one stage, or an empty one when it has none.
pub fn stage_log(input: &Input, stage: &str, bus: &str) -> Result<Option<StageLog>> {
    let path = input.dir.join(hlog::file_name(stage, bus));
    if !path.exists() {
        return Ok(None);
    }
    hlog::read(&path).map(Some)
}
