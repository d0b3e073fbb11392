//! What `compare` prints: a table with a line per stage, bus and figure
//! (old, new, change), then what only one side has and what failed the
//! gate; or the same as JSON with `--json`.

use serde_json::json;

use super::figure::Kind;
use super::Comparison;

/// Counts as integers, rates and latencies with one decimal, as in
/// summary.csv.
pub fn number(kind: Kind, x: f64) -> String {
    match kind {
        Kind::Count => format!("{x:.0}"),
        _ => format!("{x:.1}"),
    }
}

fn pct(p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{p:+.1}%"),
        None => "new".into(),
    }
}

pub fn table(c: &Comparison) {
    println!("old: {}", c.old.dir.display());
    println!("new: {}", c.new.dir.display());
    let mut rows = vec![["stage", "bus", "figure", "old", "new", "change", ""].map(String::from)];
    for p in &c.pairs {
        for ch in &p.changes {
            let flag = if ch.regressed { "REGRESSION" } else { "" };
            rows.push([
                p.stage.clone(),
                p.bus.clone(),
                ch.figure.name.into(),
                number(ch.figure.kind, ch.old),
                number(ch.figure.kind, ch.new),
                pct(ch.pct),
                flag.into(),
            ]);
        }
        for (name, (o, n)) in [("status", &p.status), ("verdict", &p.verdict)] {
            let same = if o == n { "same" } else { "changed" };
            rows.push([
                p.stage.clone(),
                p.bus.clone(),
                name.into(),
                o.clone(),
                n.clone(),
                same.into(),
                String::new(),
            ]);
        }
    }
    print_aligned(&rows);
    for (stage, bus) in &c.only_old {
        println!("only in old: stage {stage} on {bus}");
    }
    for (stage, bus) in &c.only_new {
        println!("only in new: stage {stage} on {bus}");
    }
    let regressions = c.regressions();
    match c.max_regression {
        Some(limit) if regressions.is_empty() => {
            println!("no regression beyond {limit}%");
        }
        Some(_) => {
            for line in regressions {
                println!("regression: {line}");
            }
        }
        None => {}
    }
}

fn print_aligned(rows: &[[String; 7]]) {
    let mut widths = [0usize; 7];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| match i {
                3..=5 => format!("{cell:>w$}"),
                _ => format!("{cell:<w$}"),
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

pub fn json(c: &Comparison, exit: i32) -> String {
    let stages: Vec<serde_json::Value> = c
        .pairs
        .iter()
        .map(|p| {
            let figures: serde_json::Map<String, serde_json::Value> = p
                .changes
                .iter()
                .map(|ch| {
                    let value = json!({
                        "old": ch.old, "new": ch.new, "change_pct": ch.pct,
                        "regressed": ch.regressed,
                    });
                    (ch.figure.name.to_string(), value)
                })
                .collect();
            json!({
                "stage": p.stage, "bus": p.bus, "figures": figures,
                "status": {"old": p.status.0, "new": p.status.1},
                "verdict": {"old": p.verdict.0, "new": p.verdict.1},
            })
        })
        .collect();
    let only = |list: &[(String, String)]| -> Vec<serde_json::Value> {
        list.iter().map(|(stage, bus)| json!({"stage": stage, "bus": bus})).collect()
    };
    let doc = json!({
        "old": c.old.dir.display().to_string(), "new": c.new.dir.display().to_string(),
        "max_regression": c.max_regression, "stages": stages,
        "only_in_old": only(&c.only_old), "only_in_new": only(&c.only_new),
        "regressions": c.regressions(), "exit": exit,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
