//! What a run prints on stdout: a summary table (or JSON with `--json`) and,
//! when thresholds are set, a pass/fail table naming each limit.

use crate::stage::Outcome;

pub fn print_summary(outcomes: &[Outcome], dir: &std::path::Path) {
    let header = [
        "stage", "bus", "sent", "received", "lost", "dup", "reord", "errors", "rate/s", "p50 us",
        "p99 us", "max us", "leaks", "status",
    ];
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            let c = &o.counts;
            let d = |text: String| o.measured(text).unwrap_or_else(|| "-".into());
            vec![
                o.stage.clone(),
                o.bus.clone(),
                c.sent.to_string(),
                d(c.received.to_string()),
                d(c.lost.to_string()),
                d(c.duplicated.to_string()),
                d(c.reordered.to_string()),
                c.errors.to_string(),
                format!("{:.0}", o.throughput()),
                d(format!("{:.1}", o.e2e.p50_us)),
                d(format!("{:.1}", o.e2e.p99_us)),
                d(format!("{:.1}", o.e2e.max_us)),
                o.verdict().name().into(),
                o.status.name().into(),
            ]
        })
        .collect();
    print_table(&header, &rows);
    for o in outcomes {
        for r in &o.settled.rows {
            if !r.left_behind.is_empty() {
                println!(
                    "{} on {}: {} {} ({} -> {}): {}",
                    o.stage,
                    o.bus,
                    r.resource,
                    r.verdict.name(),
                    r.baseline,
                    r.after_settle,
                    r.left_behind
                );
            }
        }
    }
    println!("results: {}", dir.display());
}

pub fn print_checks(outcomes: &[Outcome]) {
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .flat_map(|o| {
            o.checks.iter().map(move |c| {
                vec![
                    o.stage.clone(),
                    o.bus.clone(),
                    c.name.clone(),
                    c.limit.clone(),
                    c.measured.clone(),
                    if c.passed { "pass".into() } else { "FAIL".into() },
                ]
            })
        })
        .collect();
    if rows.iter().any(|r| r[2] != "leaks") {
        println!();
        print_table(&["stage", "bus", "threshold", "limit", "measured", "result"], &rows);
    }
}

pub(super) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(|s| s.as_str()).collect());
    }
}

/// The `--json` summary: one object per stage with the figures a script
/// would gate on.
pub fn summary_json(outcomes: &[Outcome], dir: &std::path::Path, exit: i32) -> String {
    let stages: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let c = &o.counts;
            let resources: Vec<serde_json::Value> = o
                .settled
                .rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "resource": r.resource, "baseline": r.baseline, "peak": r.peak,
                        "after_close": r.after_close, "after_settle": r.after_settle,
                        "verdict": r.verdict.name(), "left_behind": r.left_behind,
                    })
                })
                .collect();
            let checks: Vec<serde_json::Value> = o
                .checks
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "threshold": k.name, "limit": k.limit,
                        "measured": k.measured, "passed": k.passed,
                    })
                })
                .collect();
            // a figure the stage did not measure is null, not zero
            let m = |figure| o.measured(figure);
            serde_json::json!({
                "stage": o.stage, "bus": o.bus, "status": o.status.name(), "reason": o.reason,
                "messages": o.messages, "sent": c.sent, "received": m(c.received),
                "lost": m(c.lost), "duplicated": m(c.duplicated),
                "reordered": m(c.reordered), "errors": c.errors,
                "duration_s": o.duration_s, "send_rate": o.send_rate,
                "receive_rate": o.measured(o.receive_rate), "e2e_p50_us": o.measured(o.e2e.p50_us),
                "e2e_p99_us": o.measured(o.e2e.p99_us), "e2e_max_us": o.measured(o.e2e.max_us),
                "publish_p99_us": o.publish.p99_us, "verdict": o.verdict().name(),
                "settle_ms": o.settled.settle_ms, "consumed": o.consumed,
                "resources": resources, "checks": checks,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "results": dir.display().to_string(), "exit": exit, "stages": stages,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
