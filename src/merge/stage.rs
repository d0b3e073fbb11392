//! One stage and bus merged across runners: its summary row (counts and
//! rates summed, percentiles from the added histograms, the worst status
//! and verdict) and its combined histogram log.

use anyhow::{anyhow, bail, Result};

use super::{stage_log, Input};
use crate::metrics::summarize;
use crate::probe::Verdict;
use crate::report::hlog::{self, StageLog};
use crate::report::num;
use crate::report::summary::COLUMNS;
use crate::stage::Status;

pub struct Merged {
    pub row: Vec<String>,
    pub log: StageLog,
    /// How many runners had this stage.
    pub runners: usize,
}

const SUMMED: [&str; 13] = [
    "messages",
    "sent",
    "received",
    "lost",
    "duplicated",
    "reordered",
    "errors",
    "acked",
    "foreign",
    "send_rate",
    "receive_rate",
    "send_mib_s",
    "receive_mib_s",
];

pub fn merge(inputs: &[Input], stage: &str, bus: &str) -> Result<Merged> {
    let mut log = StageLog::default();
    let (mut start, mut end) = (None, std::time::Duration::ZERO);
    let mut rows = Vec::new();
    for input in inputs {
        let t = &input.summary;
        let Some(row) =
            t.rows.iter().find(|r| t.text(r, "stage") == stage && t.text(r, "bus") == bus)
        else {
            continue;
        };
        match stage_log(input, stage, bus)? {
            Some(theirs) => {
                start =
                    Some(start.map_or(theirs.start, |s: std::time::Duration| s.min(theirs.start)));
                end = end.max(theirs.start + theirs.length);
                for (tag, hist) in &theirs.hists {
                    hlog::add(&mut log, tag, hist)?;
                }
            }
            None if t.measured(row, "received")?.unwrap_or(0.0) > 0.0
                || t.num(row, "acked")? > 0.0 =>
            {
                bail!(
                    "{}: stage {stage} on {bus} has latencies but no {}: cannot merge them",
                    input.dir.display(),
                    hlog::file_name(stage, bus)
                )
            }
            None => {}
        }
        rows.push((input, row));
    }
    log.start = start.unwrap_or_default();
    log.length = end.saturating_sub(log.start);

    let mut out = Vec::with_capacity(COLUMNS.len());
    for column in COLUMNS {
        out.push(cell(column, &rows, &log).map_err(|e| anyhow!("stage {stage} on {bus}: {e}"))?);
    }
    Ok(Merged { row: out, log, runners: rows.len() })
}

type Rows<'a> = [(&'a Input, &'a crate::report::read::Row)];

fn cell(column: &str, rows: &Rows, log: &StageLog) -> Result<String> {
    let nums =
        |c: &str| -> Result<Vec<f64>> { rows.iter().map(|(i, r)| i.summary.num(r, c)).collect() };
    let texts = |c: &str| -> Vec<String> {
        rows.iter().map(|(i, r)| i.summary.text(r, c).to_string()).collect()
    };
    let latency = |tag: &str, pick: fn(&crate::metrics::Summary) -> f64| {
        num(log.get(tag).map(|h| pick(&summarize(h))).unwrap_or(0.0))
    };
    // a figure no runner measured (consume = false) stays empty
    let empty = texts(column).iter().filter(|t| t.trim().is_empty()).count();
    if column != "reason" && empty > 0 {
        if empty == rows.len() {
            return Ok(String::new());
        }
        bail!(
            "column '{column}' is empty for {empty} of {} runners: a stage that only \
             publishes (consume = false) merges only with runs that did the same",
            rows.len()
        );
    }
    Ok(match column {
        "stage" | "bus" => texts(column).swap_remove(0),
        c if SUMMED.contains(&c) => {
            let total: f64 = nums(c)?.iter().sum();
            if c.ends_with("rate") || c.ends_with("_s") {
                num(total)
            } else {
                format!("{total:.0}")
            }
        }
        "duration_s" => format!("{:.3}", nums(column)?.into_iter().fold(0.0, f64::max)),
        "e2e_p50_us" => latency("e2e", |s| s.p50_us),
        "e2e_p90_us" => latency("e2e", |s| s.p90_us),
        "e2e_p99_us" => latency("e2e", |s| s.p99_us),
        "e2e_p999_us" => latency("e2e", |s| s.p999_us),
        "e2e_max_us" => latency("e2e", |s| s.max_us),
        "e2e_mean_us" => latency("e2e", |s| s.mean_us),
        "publish_p50_us" => latency("publish", |s| s.p50_us),
        "publish_p99_us" => latency("publish", |s| s.p99_us),
        "publish_max_us" => latency("publish", |s| s.max_us),
        "slip_p99_us" => latency("slip", |s| s.p99_us),
        "slip_max_us" => latency("slip", |s| s.max_us),
        "status" => worst(texts(column), Status::parse),
        "verdict" => worst(texts(column), Verdict::parse),
        "reason" => rows
            .iter()
            .filter(|(i, r)| !i.summary.text(r, "reason").is_empty())
            .map(|(i, r)| format!("{}: {}", i.runner, i.summary.text(r, "reason")))
            .collect::<Vec<_>>()
            .join("; "),
        other => bail!("no rule to merge the column '{other}'"),
    })
}

/// The worst of the values as `parse` orders them (an unknown value is
/// worse than any known one).
fn worst<T: Ord>(values: Vec<String>, parse: fn(&str) -> Option<T>) -> String {
    let rank = |v: &String| {
        let known = parse(v);
        (known.is_none(), known)
    };
    values.into_iter().max_by_key(rank).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_and_verdict_win() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(worst(s(&["clean", "leaked", "unsettled"]), Verdict::parse), "leaked");
        assert_eq!(worst(s(&["clean", "clean"]), Verdict::parse), "clean");
    }
}
