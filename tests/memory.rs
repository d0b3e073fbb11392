//! End-to-end runs of the real binary on the embedded memory bus.

mod common;

use common::{assert_clean_and_complete, csv_rows, num, text, Scratch};

#[test]
fn extreme_ladder_delivers_everything_once_in_order_and_settles_clean() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/extreme.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    assert_clean_and_complete(&dir);
    let summary = csv_rows(&dir.join("summary.csv"));
    let stages: Vec<(&str, f64)> =
        summary.iter().map(|r| (r["stage"].as_str(), num(r, "messages"))).collect();
    assert_eq!(
        stages,
        vec![("low", 500.0), ("medium", 2000.0), ("high", 5000.0), ("extreme", 10000.0)]
    );
    assert!(summary.iter().all(|r| r["bus"] == "memory"));
}

#[test]
fn every_result_file_is_written_with_the_fixed_columns() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/low.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("low-") && name.ends_with('Z'), "{name}");
    let header = |file: &str| {
        let content = std::fs::read_to_string(dir.join(file)).unwrap();
        content.lines().next().unwrap().to_string()
    };
    assert!(header("summary.csv").starts_with(
        "stage,bus,messages,sent,received,lost,duplicated,reordered,errors,duration_s,\
         send_rate,receive_rate,e2e_p50_us,e2e_p99_us,e2e_max_us,publish_p99_us,status"
    ));
    assert!(header("resources.csv").starts_with(
        "stage,bus,resource,baseline,peak,after_close,after_settle,delta,settle_ms,verdict,\
         left_behind"
    ));
    assert!(header("timeline.csv").starts_with("time_s,stage,bus,phase,threads,tasks,fds"));
    assert!(header("latency.csv").starts_with("stage,bus,histogram,percentile,value_us"));
    let hlog = std::fs::read_to_string(dir.join("low-memory.hlog")).unwrap();
    assert!(hlog.contains("Tag=e2e,"), "{hlog}");
    let resolved = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
    assert!(resolved.contains("messages = 500") && resolved.contains("timeout = \"2m\""));

    let resources: Vec<String> =
        csv_rows(&dir.join("resources.csv")).into_iter().map(|r| r["resource"].clone()).collect();
    for wanted in ["threads", "tasks", "fds", "rss_bytes", "heap_bytes"] {
        assert!(resources.iter().any(|r| r == wanted), "{wanted} missing from {resources:?}");
    }
    let phases: Vec<String> =
        csv_rows(&dir.join("timeline.csv")).into_iter().map(|r| r["phase"].clone()).collect();
    for wanted in ["baseline", "publish", "close", "settle"] {
        assert!(phases.iter().any(|p| p == wanted), "{wanted} missing from {phases:?}");
    }
    // the peak shows the 256 workers the stage started and stopped
    let tasks = csv_rows(&dir.join("resources.csv"))
        .into_iter()
        .find(|r| r["resource"] == "tasks")
        .unwrap();
    assert!(num(&tasks, "peak") >= num(&tasks, "baseline") + 256.0, "{tasks:?}");
}

#[test]
fn injected_leaks_are_each_reported_and_named() {
    let s = Scratch::new();
    let scenario =
        s.scenario("leaky.toml", "[[stage]]\nname = \"only\"\nmessages = 200\nsettle = \"3s\"\n");
    let path = scenario.to_str().unwrap();
    let out = s.run(&[path, "--inject-leak", "thread,task,fd,heap"]);
    assert_eq!(out.status.code(), Some(1), "a leak must fail the run: {}", text(&out.stderr));
    let rows = csv_rows(&s.result_dir().join("resources.csv"));
    let row = |name: &str| rows.iter().find(|r| r["resource"] == name).unwrap().clone();
    for (resource, named) in [
        ("threads", "leaky-thread"),
        ("tasks", "leaky-task"),
        ("fds", "/dev/null"),
        ("fds_file", "/dev/null"),
        ("heap_bytes", "64.0 MiB still allocated"),
    ] {
        let r = row(resource);
        assert_eq!(r["verdict"], "leaked", "{r:?}");
        assert!(r["left_behind"].contains(named), "{resource} should name {named}: {r:?}");
        assert!(num(&r, "delta") > 0.0, "{r:?}");
    }
    assert_eq!(row("fds_socket")["verdict"], "clean");
    let summary = csv_rows(&s.result_dir().join("summary.csv"));
    assert_eq!(summary[0]["verdict"], "leaked");
    assert!(text(&out.stdout).contains("leaky-thread"), "{}", text(&out.stdout));
}

#[test]
fn twenty_clean_stages_in_a_row_raise_no_false_alarm() {
    let s = Scratch::new();
    let mut scenario = String::from("[defaults]\ntopics = 3\nkeys = 50\nsettle = \"5s\"\n");
    for i in 0..20 {
        scenario.push_str(&format!("\n[[stage]]\nname = \"s{i}\"\nmessages = {}\n", 500 + i * 250));
    }
    let path = s.scenario("twenty.toml", &scenario);
    let out = s.run(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    assert_clean_and_complete(&dir);
    assert_eq!(csv_rows(&dir.join("summary.csv")).len(), 20);
}

#[test]
fn an_impossible_threshold_fails_the_run_and_is_named() {
    let s = Scratch::new();
    let path = s.scenario(
        "strict.toml",
        "[[stage]]\nname = \"tight\"\nmessages = 300\n\n[thresholds]\ne2e_p99 = \"1ns\"\n",
    );
    let out = s.run(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line = stdout.lines().find(|l| l.contains("e2e_p99")).expect("a threshold row");
    assert!(line.contains("FAIL") && line.contains("<= 1ns") && line.contains("tight"), "{line}");
}

#[test]
fn a_stage_filter_runs_only_the_named_stages_and_json_reports_them() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/extreme.toml", "--stage", "medium", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let stages = doc["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0]["stage"], "medium");
    assert_eq!(stages[0]["received"], 2000);
    assert_eq!(doc["exit"], 0);
}

#[test]
fn run_subcommand_is_the_same_as_the_bare_form() {
    let s = Scratch::new();
    let out = s.run(&["run", "scenarios/low.toml", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet prints nothing: {}", text(&out.stdout));
    assert_clean_and_complete(&s.result_dir());
}

#[test]
fn plain_progress_lines_go_to_stderr_when_it_is_not_a_terminal() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/low.toml"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("stage low on memory: publish"), "{stderr}");
    assert!(stderr.contains("stage low on memory: ok"), "{stderr}");
    assert!(!stderr.contains('\r'), "no bar redraws in a log: {stderr}");
}

#[test]
fn a_second_run_gets_a_new_directory() {
    let s = Scratch::new();
    for _ in 0..2 {
        let out = s.run(&["scenarios/low.toml", "-q"]);
        assert_eq!(out.status.code(), Some(0));
    }
    assert_eq!(std::fs::read_dir(s.results()).unwrap().count(), 2);
}

#[test]
fn a_fixed_rate_stage_takes_as_long_as_its_rate_says() {
    let s = Scratch::new();
    let path = s.scenario(
        "rate.toml",
        "[[stage]]\nname = \"paced\"\nmessages = 2000\nrate = 4000\nproducers = 2\n",
    );
    let out = s.run(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let row = &csv_rows(&s.result_dir().join("summary.csv"))[0];
    let duration = num(row, "duration_s");
    assert!((0.45..2.0).contains(&duration), "2000 at 4000/s takes about 0.5s, took {duration}");
    let rate = num(row, "send_rate");
    assert!((3000.0..4600.0).contains(&rate), "send rate {rate}");
}

#[test]
fn warm_up_messages_count_for_loss_but_not_for_latency() {
    let s = Scratch::new();
    let path = s.scenario(
        "warm.toml",
        "[[stage]]\nname = \"warm\"\nmessages = 1000\nwarmup = 300\nkeys = 10\n",
    );
    let out = s.run(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    let summary = &csv_rows(&dir.join("summary.csv"))[0];
    assert_eq!((num(summary, "sent"), num(summary, "received")), (1000.0, 1000.0));
    let latency = csv_rows(&dir.join("latency.csv"));
    let all = |histogram: &str| {
        let top = latency.iter().find(|r| r["histogram"] == histogram && r["percentile"] == "100");
        num(top.expect("a 100th percentile row"), "count")
    };
    assert_eq!(all("e2e"), 700.0, "the 300 warm-up messages are left out");
    assert_eq!(all("publish"), 700.0);
}

#[test]
fn a_stage_that_only_publishes_counts_what_it_sent_and_leaves_delivery_figures_empty() {
    let s = Scratch::new();
    let path = s.scenario(
        "publish-only.toml",
        "[defaults]\ntopics = 2\nkeys = 50\n\n\
         [[stage]]\nname = \"firehose\"\nmessages = 20000\nconsume = false\n\n\
         [[stage]]\nname = \"checked\"\nmessages = 2000\n",
    );
    let out = s.run(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("sent 20000 at") && stderr.contains("(publish only)"), "{stderr}");

    let dir = s.result_dir();
    let summary = csv_rows(&dir.join("summary.csv"));
    let (firehose, checked) = (&summary[0], &summary[1]);
    assert_eq!(num(firehose, "sent"), 20000.0);
    assert_eq!(num(firehose, "acked"), 20000.0, "the bus took every message: {firehose:?}");
    assert!(num(firehose, "send_rate") > 0.0 && num(firehose, "publish_p99_us") > 0.0);
    assert_eq!(firehose["status"], "ok");
    assert_eq!(firehose["verdict"], "clean");
    for column in ["received", "lost", "duplicated", "reordered", "receive_rate", "e2e_p99_us"] {
        assert_eq!(firehose[column], "", "{column} was not measured: {firehose:?}");
    }
    // the next stage consumes as usual
    assert_eq!(num(checked, "received"), 2000.0);
    assert_eq!(num(checked, "lost"), 0.0);

    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json summary");
    let first = &json["stages"][0];
    assert_eq!(first["consumed"], false);
    assert!(first["received"].is_null() && first["e2e_p99_us"].is_null(), "{first}");
    assert_eq!(first["sent"], 20000);
    let phases: Vec<String> = csv_rows(&dir.join("timeline.csv"))
        .into_iter()
        .filter(|r| r["stage"] == "firehose")
        .map(|r| r["phase"].clone())
        .collect();
    assert!(!phases.iter().any(|p| p == "subscribe" || p == "drain"), "{phases:?}");
}
