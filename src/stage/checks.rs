//! Thresholds against what a stage measured: one `Check` per limit set, so
//! the final table can name each limit, its value and the measured figure.

use std::time::Duration;

use super::outcome::{Check, Outcome};
use crate::probe::Verdict;
use crate::scenario::{show_duration, LeakPolicy, Thresholds};

pub fn evaluate(t: &Thresholds, o: &Outcome) -> Vec<Check> {
    let mut out = Vec::new();
    let latency = [
        ("e2e_p50", t.e2e_p50, o.e2e.p50_us),
        ("e2e_p99", t.e2e_p99, o.e2e.p99_us),
        ("e2e_p999", t.e2e_p999, o.e2e.p999_us),
        ("e2e_max", t.e2e_max, o.e2e.max_us),
        ("publish_p99", t.publish_p99, o.publish.p99_us),
        ("publish_max", t.publish_max, o.publish.max_us),
    ];
    for (name, limit, us) in latency {
        if let Some(limit) = limit {
            let measured = Duration::from_nanos((us * 1000.0) as u64);
            out.push(Check {
                name: name.into(),
                limit: format!("<= {}", show_duration(limit)),
                measured: format!("{us:.1}us"),
                passed: measured <= limit,
            });
        }
    }
    let c = &o.counts;
    let maxima = [
        ("max_lost", t.max_lost, c.lost),
        ("max_duplicated", t.max_duplicated, c.duplicated),
        ("max_reordered", t.max_reordered, c.reordered),
        ("max_errors", t.max_errors, c.errors),
    ];
    for (name, limit, got) in maxima {
        if let Some(limit) = limit {
            out.push(Check {
                name: name.into(),
                limit: format!("<= {limit}"),
                measured: got.to_string(),
                passed: got <= limit,
            });
        }
    }
    if let Some(min) = t.min_receive_rate {
        out.push(Check {
            name: "min_receive_rate".into(),
            limit: format!(">= {min}/s"),
            measured: format!("{:.0}/s", o.receive_rate),
            passed: o.receive_rate >= min as f64,
        });
    }
    if t.leaks != LeakPolicy::Ignore {
        let verdict = o.verdict();
        out.push(Check {
            name: "leaks".into(),
            limit: match t.leaks {
                LeakPolicy::Fail => "clean".into(),
                _ => "clean (warn only)".into(),
            },
            measured: verdict.name().into(),
            passed: verdict == Verdict::Clean || t.leaks == LeakPolicy::Warn,
        });
    }
    out
}
