//! Helpers for the end-to-end tests: run the real binary, read its result
//! files the way a user would.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A scratch directory with a results folder inside.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    /// Writes a scenario file and returns its path.
    pub fn scenario(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write scenario");
        path
    }

    /// Runs `loadrun ARGS... --results <scratch>/results`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("loadrun").expect("binary");
        cmd.args(args).arg("--results").arg(self.results());
        cmd.timeout(std::time::Duration::from_secs(600));
        cmd.output().expect("run loadrun")
    }

    /// The single result directory a run made.
    pub fn result_dir(&self) -> PathBuf {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.results())
            .expect("results dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        assert_eq!(dirs.len(), 1, "expected one result directory, found {dirs:?}");
        dirs.pop().unwrap()
    }
}

/// Runs the binary with exactly these arguments (no --results).
pub fn loadrun(args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("loadrun").expect("binary");
    cmd.args(args).timeout(std::time::Duration::from_secs(600));
    cmd.output().expect("run loadrun")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A CSV file as rows of column name to value.
pub fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{path:?}: {e}"));
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

pub fn num(row: &HashMap<String, String>, column: &str) -> f64 {
    row.get(column)
        .unwrap_or_else(|| panic!("no column {column} in {row:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("column {column} is not a number in {row:?}"))
}

/// Asserts every stage row in summary.csv delivered everything exactly once
/// and in order, and every resource row settled clean.
pub fn assert_clean_and_complete(dir: &Path) {
    let summary = csv_rows(&dir.join("summary.csv"));
    assert!(!summary.is_empty(), "no stages in summary.csv");
    for row in &summary {
        let sent = num(row, "sent");
        assert_eq!(sent, num(row, "messages"), "sent != messages: {row:?}");
        assert_eq!(num(row, "received"), sent, "received != sent: {row:?}");
        for column in ["lost", "duplicated", "reordered", "errors"] {
            assert_eq!(num(row, column), 0.0, "{column} in {row:?}");
        }
        assert_eq!(row["status"], "ok", "{row:?}");
        assert!(num(row, "e2e_p99_us") > 0.0, "no latency recorded: {row:?}");
    }
    for row in csv_rows(&dir.join("resources.csv")) {
        assert_eq!(row["verdict"], "clean", "{row:?}");
    }
}
