//! `cargo bench --bench trust`: how far the verdicts and the memory figures
//! can be trusted, by running the release binary many times.
//!
//! - Injected leaks of each kind (thread, task, fd, heap) on the memory bus,
//!   and on the Kafka mock cluster when this build has Kafka: in how many of
//!   ten runs was the leak reported as `leaked` and named?
//! - Twenty clean multi-stage runs (scenarios/extreme.toml) on the same
//!   buses: how many gave any verdict but `clean`?
//! - Memory per message count: peak RSS and peak heap of a one-million-
//!   message stage against a ten-thousand-message one (goal: at most 1.2x).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const LEAK_RUNS: usize = 10;
const CLEAN_RUNS: usize = 20;

type Row = HashMap<String, String>;

fn main() {
    let results = tempfile::tempdir().expect("temp dir");
    let mut buses = vec![vec![]];
    if has_kafka(results.path()) {
        buses.push(vec!["--bus", "kafka", "--brokers", "mock"]);
    } else {
        println!("kafka: not built into this loadrun, skipped");
    }
    for bus in &buses {
        let label = if bus.is_empty() { "memory" } else { "kafka (mock)" };
        for (leak, resource, named) in [
            ("thread", "threads", "leaky-thread"),
            ("task", "tasks", "leaky-task"),
            ("fd", "fds", "/dev/null"),
            ("heap", "heap_bytes", "still allocated"),
        ] {
            let caught = (0..LEAK_RUNS)
                .filter(|_| leak_caught(results.path(), bus, leak, resource, named))
                .count();
            println!("{label}: injected {leak} leak reported and named in {caught} of {LEAK_RUNS}");
        }
        let false_alarms = (0..CLEAN_RUNS).filter(|_| !clean_run(results.path(), bus)).count();
        println!(
            "{label}: {false_alarms} of {CLEAN_RUNS} clean ladder runs gave a non-clean verdict"
        );
    }
    memory_scaling(results.path());
}

fn run(results: &Path, args: &[&str]) -> (i32, PathBuf) {
    let root = tempfile::tempdir_in(results).expect("temp dir").keep();
    let out = Command::new(env!("CARGO_BIN_EXE_loadrun"))
        .args(args)
        .args(["--quiet", "--results"])
        .arg(&root)
        .output()
        .expect("run loadrun");
    let dir = std::fs::read_dir(&root)
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.path())
        .unwrap_or(root);
    (out.status.code().unwrap_or(-1), dir)
}

fn rows(path: &Path) -> Vec<Row> {
    let Ok(mut reader) = csv::Reader::from_path(path) else { return Vec::new() };
    let headers = reader.headers().cloned().unwrap_or_default();
    reader
        .records()
        .flatten()
        .map(|r| headers.iter().zip(r.iter()).map(|(h, v)| (h.into(), v.into())).collect())
        .collect()
}

fn has_kafka(results: &Path) -> bool {
    let (code, dir) = run(results, &["scenarios/low.toml", "--bus", "kafka", "--brokers", "mock"]);
    code == 0 && !rows(&dir.join("summary.csv")).is_empty()
}

fn leak_caught(results: &Path, bus: &[&str], leak: &str, resource: &str, named: &str) -> bool {
    let mut args = vec!["scenarios/low.toml", "--inject-leak", leak];
    args.extend_from_slice(bus);
    let (code, dir) = run(results, &args);
    let rows = rows(&dir.join("resources.csv"));
    let row = rows.iter().find(|r| r["resource"] == resource);
    code == 1 && row.is_some_and(|r| r["verdict"] == "leaked" && r["left_behind"].contains(named))
}

fn clean_run(results: &Path, bus: &[&str]) -> bool {
    let mut args = vec!["scenarios/extreme.toml"];
    args.extend_from_slice(bus);
    let (code, dir) = run(results, &args);
    let rows = rows(&dir.join("resources.csv"));
    code == 0 && !rows.is_empty() && rows.iter().all(|r| r["verdict"] == "clean")
}

fn memory_scaling(results: &Path) {
    let peak = |messages: u64, resource: &str| -> f64 {
        let scenario = results.join(format!("mem-{messages}.toml"));
        let body = format!(
            "[defaults]\ntopics = 4\nkeys = 1000\nmessage_size = 256\n\n\
             [[stage]]\nname = \"s\"\nmessages = {messages}\ntimeout = \"10m\"\n"
        );
        std::fs::write(&scenario, body).expect("write scenario");
        let mut peaks: Vec<f64> = (0..3)
            .map(|_| {
                let (_, dir) = run(results, &[scenario.to_str().unwrap()]);
                let rows = rows(&dir.join("resources.csv"));
                let row = rows.iter().find(|r| r["resource"] == resource).expect("a row");
                row["peak"].parse::<f64>().unwrap() - 0.0
            })
            .collect();
        peaks.sort_by(|a, b| a.total_cmp(b));
        peaks[1]
    };
    for resource in ["rss_bytes", "heap_bytes"] {
        let (small, large) = (peak(10_000, resource), peak(1_000_000, resource));
        println!(
            "peak {resource}: {:.1} MiB for 10,000 messages, {:.1} MiB for 1,000,000: ratio {:.2} \
             (goal <= 1.2, medians of 3)",
            small / 1048576.0,
            large / 1048576.0,
            large / small
        );
    }
}
