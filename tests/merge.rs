//! End-to-end tests of `loadrun merge`: two real runs of one scenario, as
//! two runners would make them, combined.

mod common;

use std::path::PathBuf;

use common::{csv_rows, loadrun, num, text, Scratch};
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

const SCENARIO: &str = "[defaults]\ntopics = 2\nkeys = 100\n\n\
    [[stage]]\nname = \"a\"\nmessages = 3000\n\n\
    [[stage]]\nname = \"b\"\nmessages = 1000\nrate = 5000\n";

/// Two runs of `scenario`, as two runners would make them.
fn two_runs(s: &Scratch, scenario: &str) -> Vec<PathBuf> {
    let path = s.scenario("shared.toml", scenario);
    for _ in 0..2 {
        let out = s.run(&[path.to_str().unwrap(), "-q"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(s.results()).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs
}

/// `loadrun merge DIRS --out <scratch>/merged`, which must succeed.
fn merge_into(s: &Scratch, dirs: &[PathBuf]) -> PathBuf {
    let out_dir = s.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(["--out", out_dir.to_str().unwrap()]);
    let out = loadrun(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out_dir
}

fn decode(path: &std::path::Path) -> hdrhistogram::Histogram<u64> {
    use base64::Engine as _;
    let bytes = std::fs::read(path).unwrap();
    let mut total: Option<hdrhistogram::Histogram<u64>> = None;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.expect("a valid interval log") {
            if i.tag().map(|t| t.as_str()) != Some("e2e") {
                continue;
            }
            let raw =
                base64::engine::general_purpose::STANDARD.decode(i.encoded_histogram()).unwrap();
            let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
                .deserialize(&mut raw.as_slice())
                .unwrap();
            assert!(total.is_none(), "one e2e interval per log");
            total = Some(h);
        }
    }
    total.expect("an e2e histogram")
}

#[test]
fn merging_two_runs_sums_the_counts_and_recomputes_percentiles_from_the_histograms() {
    let s = Scratch::new();
    let dirs = two_runs(&s, SCENARIO);
    let out_dir = merge_into(&s, &dirs);

    let inputs: Vec<_> = dirs.iter().map(|d| csv_rows(&d.join("summary.csv"))).collect();
    let merged = csv_rows(&out_dir.join("summary.csv"));
    assert_eq!(merged.len(), 2);
    for (i, row) in merged.iter().enumerate() {
        let (a, b) = (&inputs[0][i], &inputs[1][i]);
        assert_eq!(row["stage"], a["stage"]);
        for column in ["messages", "sent", "received", "lost", "acked"] {
            assert_eq!(num(row, column), num(a, column) + num(b, column), "{column}");
        }
        let rate = num(a, "receive_rate") + num(b, "receive_rate");
        assert!((num(row, "receive_rate") - rate).abs() < 0.2, "{row:?}");
        let p99 = num(row, "e2e_p99_us");
        let (lo, hi) = (
            num(a, "e2e_p99_us").min(num(b, "e2e_p99_us")),
            num(a, "e2e_p99_us").max(num(b, "e2e_p99_us")),
        );
        // the p99 of a union lies between the inputs' p99s (HdrHistogram
        // buckets make it exact to within 0.1%)
        assert!(p99 >= lo * 0.999 && p99 <= hi * 1.001, "{p99} not in [{lo}, {hi}]");
        let max = num(a, "e2e_max_us").max(num(b, "e2e_max_us"));
        assert!((num(row, "e2e_max_us") - max).abs() <= max * 0.001, "{row:?}");

        let stage = &row["stage"];
        let hist = decode(&out_dir.join(format!("{stage}-memory.hlog")));
        assert_eq!(hist.len() as f64, num(row, "received"));
        let back = hist.value_at_quantile(0.99) as f64 / 1000.0;
        assert!((back - p99).abs() <= 0.1, "hlog p99 {back} vs summary {p99}");
    }

    let resources = csv_rows(&out_dir.join("resources.csv"));
    let runners: std::collections::BTreeSet<&str> =
        resources.iter().map(|r| r["runner"].as_str()).collect();
    assert_eq!(runners.len(), 2, "every runner's resources kept apart: {runners:?}");
    assert!(out_dir.join("latency.csv").exists() && out_dir.join("plot.svg").exists());
}

#[test]
fn merge_refuses_to_overwrite_a_directory_or_mix_scenarios() {
    let s = Scratch::new();
    let dirs = two_runs(&s, SCENARIO);
    let (a, b) = (dirs[0].to_str().unwrap(), dirs[1].to_str().unwrap());
    let out = loadrun(&["merge", a, b, "--out", a]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("never overwrites"), "{}", text(&out.stderr));

    let other = s.scenario("other.toml", "[[stage]]\nname = \"a\"\nmessages = 10\n");
    let run = loadrun(&[
        other.to_str().unwrap(),
        "-q",
        "--results",
        s.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let o = std::fs::read_dir(s.path().join("o")).unwrap().next().unwrap().unwrap().path();
    let out =
        loadrun(&["merge", a, o.to_str().unwrap(), "--out", s.path().join("m").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ran different scenarios"), "{}", text(&out.stderr));
}

#[test]
fn merging_stages_that_only_published_sums_what_was_sent_and_keeps_delivery_empty() {
    let s = Scratch::new();
    let firehose = "[[stage]]\nname = \"firehose\"\nmessages = 4000\nconsume = false\n";
    let out_dir = merge_into(&s, &two_runs(&s, firehose));

    let merged = csv_rows(&out_dir.join("summary.csv"));
    assert_eq!(merged.len(), 1);
    let row = &merged[0];
    assert_eq!((num(row, "sent"), num(row, "acked")), (8000.0, 8000.0));
    assert!(num(row, "publish_p99_us") > 0.0, "{row:?}");
    for column in ["received", "lost", "receive_rate", "e2e_p99_us"] {
        assert_eq!(row[column], "", "{column}: {row:?}");
    }
}
