//! End-to-end tests of `loadrun compare`: real result directories, some
//! doctored the way a regression would look.

mod common;

use std::path::{Path, PathBuf};

use common::{csv_rows, loadrun, text, Scratch};

const TWO_STAGES: &str = "[defaults]\ntopics = 2\nkeys = 100\n\n\
    [[stage]]\nname = \"first\"\nmessages = 1000\n\n\
    [[stage]]\nname = \"second\"\nmessages = 2000\n";

fn one_run(s: &Scratch) -> PathBuf {
    let path = s.scenario("two.toml", TWO_STAGES);
    let out = s.run(&[path.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    s.result_dir()
}

/// Copies a result directory's summary and resources into `to`, with
/// `edit` applied to every summary row.
fn doctored(from: &Path, to: &Path, edit: impl Fn(&mut csv::StringRecord, &csv::StringRecord)) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join("resources.csv"), to.join("resources.csv")).unwrap();
    let mut reader = csv::Reader::from_path(from.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut writer = csv::Writer::from_path(to.join("summary.csv")).unwrap();
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let mut record = record.unwrap();
        edit(&mut record, &header);
        writer.write_record(&record).unwrap();
    }
    writer.flush().unwrap();
}

fn set(record: &mut csv::StringRecord, header: &csv::StringRecord, column: &str, factor: f64) {
    let i = header.iter().position(|h| h == column).unwrap();
    let cells: Vec<String> =
        record
            .iter()
            .enumerate()
            .map(|(n, v)| {
                if n == i {
                    format!("{:.1}", v.parse::<f64>().unwrap() * factor)
                } else {
                    v.into()
                }
            })
            .collect();
    *record = csv::StringRecord::from(cells);
}

#[test]
fn a_directory_compared_with_itself_passes_with_no_change() {
    let s = Scratch::new();
    let dir = one_run(&s);
    let d = dir.to_str().unwrap();
    let out = loadrun(&["compare", d, d, "--max-regression", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for stage in ["first", "second"] {
        let p99 = stdout
            .lines()
            .find(|l| l.starts_with(stage) && l.contains("e2e_p99_us"))
            .unwrap_or_else(|| panic!("no e2e_p99_us line for {stage}: {stdout}"));
        assert!(p99.ends_with("+0.0%"), "{p99}");
    }
    for figure in [
        "send_rate",
        "receive_rate",
        "e2e_p50_us",
        "e2e_max_us",
        "publish_p99_us",
        "lost",
        "duplicated",
        "reordered",
        "errors",
        "status",
        "verdict",
    ] {
        assert!(stdout.contains(figure), "{figure} missing: {stdout}");
    }
    assert!(!stdout.contains("REGRESSION"), "{stdout}");
}

#[test]
fn a_slower_p99_and_a_lower_receive_rate_fail_the_gate_and_are_named() {
    let s = Scratch::new();
    let old = one_run(&s);
    let new = s.path().join("doctored");
    doctored(&old, &new, |r, h| {
        if &r[0] == "second" {
            set(r, h, "e2e_p99_us", 3.0);
            set(r, h, "receive_rate", 0.25);
        }
    });
    let out = loadrun(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--max-regression",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let regressions: Vec<&str> = stdout.lines().filter(|l| l.starts_with("regression:")).collect();
    assert_eq!(regressions.len(), 2, "{stdout}");
    let named =
        |figure: &str| regressions.iter().any(|l| l.contains("second") && l.contains(figure));
    assert!(named("e2e_p99_us rose 200.0%"), "{regressions:?}");
    assert!(named("receive_rate fell 75.0%"), "{regressions:?}");
    let line =
        stdout.lines().find(|l| l.starts_with("second") && l.contains("e2e_p99_us")).unwrap();
    assert!(line.contains("+200.0%") && line.ends_with("REGRESSION"), "{line}");

    // without a gate the same comparison only reports
    let out = loadrun(&["compare", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));

    // an ignored figure is shown but does not fail
    let out = loadrun(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--max-regression=50",
        "--ignore=e2e_p99_us,receive_rate",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn json_lists_every_figure_and_the_stages_only_one_side_has() {
    let s = Scratch::new();
    let old = one_run(&s);
    let new = s.path().join("renamed");
    doctored(&old, &new, |r, _| {
        if &r[0] == "second" {
            let mut cells: Vec<String> = r.iter().map(String::from).collect();
            cells[0] = "third".into();
            *r = csv::StringRecord::from(cells);
        }
    });
    let out = loadrun(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--json",
        "--max-regression",
        "50",
    ]);
    // a stage the baseline has and the new run lacks fails the gate
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["only_in_old"][0]["stage"], "second");
    assert_eq!(doc["only_in_new"][0]["stage"], "third");
    let first = &doc["stages"][0];
    assert_eq!(first["stage"], "first");
    assert_eq!(first["figures"]["e2e_p99_us"]["change_pct"], 0.0);
    assert_eq!(first["verdict"]["new"], "clean");
    assert!(doc["regressions"][0].as_str().unwrap().contains("missing"), "{doc}");
}

#[test]
fn a_missing_directory_exits_2_and_names_it() {
    let s = Scratch::new();
    let old = one_run(&s);
    let out = loadrun(&["compare", old.to_str().unwrap(), "/no/such/results"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("/no/such/results") && stderr.contains("no such directory"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_summary_exits_2_naming_file_line_and_value() {
    let s = Scratch::new();
    let old = one_run(&s);
    let new = s.path().join("broken");
    doctored(&old, &new, |r, h| {
        if &r[0] == "second" {
            let i = h.iter().position(|c| c == "e2e_p50_us").unwrap();
            let mut cells: Vec<String> = r.iter().map(String::from).collect();
            cells[i] = "fast".into();
            *r = csv::StringRecord::from(cells);
        }
    });
    let out = loadrun(&["compare", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("broken/summary.csv:3: column 'e2e_p50_us': `fast` is not a number"),
        "{stderr}"
    );
    assert_eq!(csv_rows(&new.join("summary.csv")).len(), 2);
}

#[test]
fn a_stage_that_only_publishes_is_compared_on_the_figures_it_measured() {
    let s = Scratch::new();
    let path = s.scenario(
        "firehose.toml",
        "[[stage]]\nname = \"firehose\"\nmessages = 5000\nconsume = false\n",
    );
    let out = s.run(&[path.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    let d = dir.to_str().unwrap();
    let out = loadrun(&["compare", d, d, "--max-regression", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let figures: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("firehose"))
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    for wanted in ["send_rate", "publish_p99_us", "errors", "status", "verdict"] {
        assert!(figures.contains(&wanted), "{wanted} missing: {stdout}");
    }
    for absent in ["receive_rate", "e2e_p99_us", "lost"] {
        assert!(!figures.contains(&absent), "{absent} was never measured: {stdout}");
    }
}
