//! Faults on the memory bus: a stalled consumer under a fixed rate, signals
//! in the middle of a run, a kill -9, and secrets that must not leak into
//! any file.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{csv_rows, num, text, Scratch};

fn paced(s: &Scratch, workers: u32, queue: u32) -> String {
    let body = format!(
        "[bus]\nworkers = {workers}\nqueue = {queue}\n\n[[stage]]\nname = \"paced\"\n\
         messages = 3000\nrate = 2000\nkeys = 10\n"
    );
    s.scenario("paced.toml", &body).to_str().unwrap().to_string()
}

fn e2e_with_stall(
    workers: u32,
    queue: u32,
    stall: &str,
) -> std::collections::HashMap<String, String> {
    let s = Scratch::new();
    let path = paced(&s, workers, queue);
    let out = s.run(&[&path, "--inject-stall", stall]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    csv_rows(&s.result_dir().join("summary.csv")).remove(0)
}

#[test]
fn a_stalled_consumer_shows_as_latency_that_grows_with_the_stall() {
    let short = e2e_with_stall(256, 1024, "100ms");
    let long = e2e_with_stall(256, 1024, "800ms");
    for (row, stall_us) in [(&short, 100_000.0), (&long, 800_000.0)] {
        let max = num(row, "e2e_max_us");
        assert!(max >= 0.9 * stall_us, "max {max}us hides a {stall_us}us stall: {row:?}");
        assert_eq!(num(row, "lost"), 0.0, "{row:?}");
    }
    // 0.7 s of the 1.5 s stage's messages waited behind the longer stall
    assert!(num(&long, "e2e_p99_us") > 4.0 * num(&short, "e2e_p99_us"), "{short:?} {long:?}");
    assert!(num(&long, "e2e_p50_us") > num(&short, "e2e_p50_us"), "{short:?} {long:?}");
}

#[test]
fn a_producer_held_back_by_a_full_queue_cannot_hide_the_stall() {
    // one worker with a one-message queue: the stall blocks the producers,
    // and an open-loop schedule still charges the wait to latency and slip
    let row = e2e_with_stall(1, 1, "600ms");
    assert!(num(&row, "e2e_max_us") >= 540_000.0, "{row:?}");
    assert!(num(&row, "e2e_p99_us") >= 300_000.0, "{row:?}");
    assert!(num(&row, "slip_max_us") >= 300_000.0, "the producers fell behind: {row:?}");
}

fn spawn(s: &Scratch, scenario: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_loadrun"))
        .args([scenario, "--results"])
        .arg(s.results())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadrun")
}

/// Waits until summary.csv has `rows` stage rows.
fn wait_for_rows(s: &Scratch, rows: usize, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "loadrun ended early");
        let done = std::fs::read_dir(s.results())
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| csv_rows(&e.path().join("summary.csv")).len() >= rows)
            .unwrap_or(false);
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "no finished stage within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill with a child's pid and a valid signal number
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

const TWO_STAGES: &str = "[[stage]]\nname = \"quick\"\nmessages = 500\n\n\
    [[stage]]\nname = \"slow\"\nmessages = 100000\nrate = 2000\n\n\
    [[stage]]\nname = \"never\"\nmessages = 10\n";

#[test]
fn sigint_records_the_running_stage_as_interrupted_keeps_the_rest_and_exits_130() {
    let s = Scratch::new();
    let path = s.scenario("two.toml", TWO_STAGES);
    let mut child = spawn(&s, path.to_str().unwrap());
    wait_for_rows(&s, 1, &mut child);
    std::thread::sleep(Duration::from_millis(300));
    let sent_at = Instant::now();
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert!(sent_at.elapsed() < Duration::from_secs(20), "took {:?}", sent_at.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let dir = s.result_dir();
    let rows = csv_rows(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0]["stage"].as_str(), rows[0]["status"].as_str()), ("quick", "ok"));
    assert_eq!((rows[1]["stage"].as_str(), rows[1]["status"].as_str()), ("slow", "interrupted"));
    assert!(num(&rows[1], "sent") > 0.0 && num(&rows[1], "sent") < 100_000.0, "{:?}", rows[1]);
    let resources = csv_rows(&dir.join("resources.csv"));
    assert!(resources.iter().any(|r| r["stage"] == "slow"), "the interrupted stage settles too");
    assert!(resources.iter().all(|r| r["verdict"] == "clean"), "{resources:?}");
}

#[test]
fn sigterm_is_handled_like_sigint() {
    let s = Scratch::new();
    let path = s.scenario("two.toml", TWO_STAGES);
    let mut child = spawn(&s, path.to_str().unwrap());
    wait_for_rows(&s, 1, &mut child);
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let rows = csv_rows(&s.result_dir().join("summary.csv"));
    assert_eq!(rows.last().unwrap()["status"], "interrupted");
}

#[test]
fn a_second_signal_exits_at_once() {
    let s = Scratch::new();
    // the first signal starts an orderly stop; the second must not wait
    // for it
    let path = s.scenario(
        "stuck.toml",
        "[[stage]]\nname = \"one\"\nmessages = 100000\nrate = 1000\nsettle = \"60s\"\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadrun"))
        .args([path.to_str().unwrap(), "--results"])
        .arg(s.results())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGINT);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "a second signal must exit at once");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
}

#[test]
fn kill_9_mid_run_leaves_valid_csv_for_every_finished_stage() {
    let s = Scratch::new();
    let path = s.scenario("two.toml", TWO_STAGES);
    let mut child = spawn(&s, path.to_str().unwrap());
    wait_for_rows(&s, 1, &mut child);
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    let dir = s.result_dir();
    let rows = csv_rows(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "ok");
    for file in ["resources.csv", "latency.csv", "timeline.csv"] {
        let rows = csv_rows(&dir.join(file));
        assert!(!rows.is_empty(), "{file} is empty");
        let width = rows[0].len();
        assert!(rows.iter().all(|r| r.len() == width), "{file} has a torn row");
    }
    let timeline = csv_rows(&dir.join("timeline.csv"));
    assert!(timeline.iter().any(|r| r["stage"] == "slow"), "samples of the killed stage are kept");
}

#[test]
fn a_secret_from_the_environment_never_reaches_a_result_file_or_the_output() {
    let s = Scratch::new();
    let secret = "hunter2-very-secret-value";
    let path = s.scenario(
        "secret.toml",
        "[bus]\nkind = \"memory\"\nbrokers = \"${LOADRUN_TEST_SECRET}\"\n\
         [bus.config]\n\"sasl.password\" = \"${LOADRUN_TEST_SECRET}\"\n\
         [[stage]]\nmessages = 100\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_loadrun"))
        .args([path.to_str().unwrap(), "--json", "--results"])
        .arg(s.results())
        .env("LOADRUN_TEST_SECRET", secret)
        .env("LOADRUN_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret));
    let dir = s.result_dir();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let content = std::fs::read(entry.path()).unwrap();
        assert!(
            !content.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{:?} contains the secret",
            entry.path()
        );
    }
    let resolved = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
    assert!(resolved.contains("\"sasl.password\" = \"<redacted>\""), "{resolved}");
}

#[test]
fn the_interval_log_shows_the_stall_in_the_second_it_happened() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    let s = Scratch::new();
    let path = s.scenario(
        "intervals.toml",
        "[[stage]]\nname = \"paced\"\nmessages = 7000\nrate = 2000\nkeys = 50\n",
    );
    let out = s.run(&[path.to_str().unwrap(), "--inject-stall", "600ms"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = std::fs::read(s.result_dir().join("paced-memory.hlog")).unwrap();
    let mut e2e = Vec::new();
    let mut total = 0;
    for entry in IntervalLogIterator::new(&log) {
        let LogEntry::Interval(interval) = entry.expect("a valid interval log") else { continue };
        if interval.tag().map(|t| t.as_str()) != Some("e2e") {
            continue;
        }
        let bytes = base64_decode(interval.encoded_histogram());
        let hist: hdrhistogram::Histogram<u64> =
            Deserializer::new().deserialize(&mut &bytes[..]).expect("a histogram");
        total += hist.len();
        e2e.push((interval.start_timestamp().as_secs_f64(), hist.max()));
    }
    assert!(e2e.len() >= 3, "one interval a second over a 3.5 s stage: {e2e:?}");
    assert_eq!(total, 7000, "the intervals add up to every message");
    // the stall starts 100 ms in: the first second holds it, the last does not
    assert!(e2e[0].1 >= 500_000_000, "{e2e:?}");
    assert!(e2e.last().unwrap().1 < 100_000_000, "{e2e:?}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}
