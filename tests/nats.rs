//! End-to-end tests of the NATS bus against a real nats-server: each test
//! starts its own server on a free loopback port, with JetStream and a
//! temporary store, and kills it when it ends. Without nats-server these
//! tests fail and say how to install it; they never pass silently.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_clean_and_complete, csv_rows, num, text, Scratch};

/// A nats-server of this test's own, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    monitor: u16,
    _store: tempfile::TempDir,
}

fn nats_server_binary() -> PathBuf {
    let chosen = std::env::var_os("NATS_SERVER").map(PathBuf::from);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/local/sbin".into()]);
    let mut candidates = dirs.map(|dir| dir.join("nats-server"));
    let found = match chosen {
        Some(path) => Some(path).filter(|p| p.is_file()),
        None => candidates.find(|p| p.is_file()),
    };
    if let Some(found) = found {
        return found;
    }
    panic!(
        "nats-server is not installed, so the NATS tests cannot run: install it with \
         scripts/install-nats.sh (apt-get install nats-server), or point NATS_SERVER at it"
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

impl Server {
    fn start() -> Server {
        let store = tempfile::tempdir().expect("store dir");
        let (port, monitor) = (free_port(), free_port());
        let child = Command::new(nats_server_binary())
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-m", &monitor.to_string()])
            .arg("-js")
            .arg("-sd")
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let server = Server { child, port, monitor, _store: store };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {port} within 10s");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's JetStream report from its monitoring port.
    fn jsz(&self, query: &str) -> serde_json::Value {
        let mut conn = TcpStream::connect(("127.0.0.1", self.monitor)).expect("monitor port");
        let ask = format!("GET /jsz{query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        conn.write_all(ask.as_bytes()).expect("ask /jsz");
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("read /jsz");
        let body = reply.split("\r\n\r\n").nth(1).expect("an http body");
        serde_json::from_str(body).expect("json from /jsz")
    }

    /// How many JetStream streams the server holds.
    fn streams(&self) -> u64 {
        self.jsz("")["streams"].as_u64().expect("a stream count")
    }

    /// Every stream as (name, storage, messages held).
    fn stream_details(&self) -> Vec<(String, String, u64)> {
        let doc = self.jsz("?streams=true&config=true");
        let accounts = doc["account_details"].as_array().cloned().unwrap_or_default();
        let streams = accounts
            .iter()
            .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default().into_iter());
        streams
            .map(|s| {
                let name = s["name"].as_str().unwrap_or_default().to_string();
                let storage = s["config"]["storage"].as_str().unwrap_or_default().to_string();
                (name, storage, s["state"]["messages"].as_u64().unwrap_or(0))
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn extreme() -> String {
    format!("{}/scenarios/extreme.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn extreme_ladder_on_core_nats_delivers_everything_in_order_and_settles_clean() {
    let server = Server::start();
    let scratch = Scratch::new();
    let out = scratch.run(&[&extreme(), "--bus", "nats", "--url", &server.url(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    let rows = csv_rows(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row["bus"], "nats");
        assert_eq!(num(row, "acked"), num(row, "sent"), "every message flushed: {row:?}");
        assert!(num(row, "publish_p99_us") > 0.0, "no publish latency: {row:?}");
        assert_eq!(num(row, "foreign"), 0.0, "probes leaked into the counts: {row:?}");
    }
}

#[test]
fn extreme_ladder_on_jetstream_delivers_everything_and_deletes_its_streams() {
    let server = Server::start();
    let scratch = Scratch::new();
    let ladder = std::fs::read_to_string(extreme()).expect("extreme.toml");
    let ladder = ladder.replace("kind = \"memory\"", "kind = \"nats\"\njetstream = true");
    let scenario = scratch.scenario("jetstream.toml", &ladder);
    let scenario = scenario.to_str().unwrap();
    let out = scratch.run(&[scenario, "--url", &server.url(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    for row in csv_rows(&dir.join("summary.csv")) {
        assert_eq!(row["bus"], "nats-jetstream");
        assert_eq!(num(&row, "acked"), num(&row, "sent"), "every publish acknowledged: {row:?}");
        assert!(num(&row, "publish_p99_us") > 0.0, "no publish latency: {row:?}");
    }
    assert_eq!(server.streams(), 0, "a stage's stream outlived its stage");
}

#[test]
fn unreachable_nats_server_exits_2_naming_the_url_within_the_connect_timeout() {
    let port = free_port();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "unreachable.toml",
        &format!(
            "[bus]\nkind = \"nats\"\nurl = \"nats://127.0.0.1:{port}\"\nconnect_timeout = \"2s\"\n\n\
             [[stage]]\nname = \"only\"\nmessages = 10\n"
        ),
    );
    let started = Instant::now();
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet"]);
    let took = started.elapsed();

    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    let rows = csv_rows(&scratch.result_dir().join("summary.csv"));
    assert_eq!(rows[0]["status"], "failed");
    let reason = &rows[0]["reason"];
    assert!(reason.contains(&format!("nats://127.0.0.1:{port}")), "reason: {reason}");
    assert!(reason.starts_with("cannot reach"), "reason: {reason}");
    assert!(num(&rows[0], "duration_s") < 2.0, "{:?}", rows[0]);
    // the run's own start and settle around it
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn silent_nats_server_fails_once_the_connect_timeout_has_passed() {
    // accepts connections (the kernel completes them) but never says a word
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("nats://{}", silent.local_addr().expect("address"));
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "silent.toml",
        &format!(
            "[bus]\nkind = \"nats\"\nurl = \"{url}\"\nconnect_timeout = \"1s\"\n\n\
             [[stage]]\nname = \"only\"\nmessages = 10\n"
        ),
    );
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet"]);

    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    let rows = csv_rows(&scratch.result_dir().join("summary.csv"));
    let reason = &rows[0]["reason"];
    assert!(reason.contains(&url), "reason: {reason}");
    let took = num(&rows[0], "duration_s");
    assert!((0.9..3.0).contains(&took), "connecting took {took}s against a 1s timeout");
}

#[test]
fn nats_server_killed_mid_stage_fails_that_stage_and_the_run_still_ends() {
    let mut server = Server::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "killed.toml",
        "[bus]\nkind = \"nats\"\nconnect_timeout = \"2s\"\n\n\
         [[stage]]\nname = \"steady\"\nmessages = 200000\nrate = 5000\ntopics = 2\nkeys = 50\n\
         timeout = \"20s\"\nsettle = \"5s\"\n",
    );
    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("loadrun"));
    run.arg(&scenario).args(["--url", &server.url(), "--quiet", "--results"]);
    run.arg(scratch.results()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let child = run.spawn().expect("start loadrun");
    std::thread::sleep(Duration::from_secs(3));
    server.kill();
    let out = wait_with_deadline(child, Duration::from_secs(90));
    let took = started.elapsed();

    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    assert!(took < Duration::from_secs(60), "the run took {took:?}");
    let dir = scratch.result_dir();
    let rows = csv_rows(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert!(["failed", "timed_out"].contains(&row["status"].as_str()), "{row:?}");
    assert!(!row["reason"].is_empty(), "no reason recorded: {row:?}");
    assert!(num(row, "sent") > 0.0 && num(row, "sent") < 200000.0, "{row:?}");
    assert_eq!(num(row, "lost"), num(row, "sent") - num(row, "received"), "{row:?}");
    assert!(!csv_rows(&dir.join("resources.csv")).is_empty());
    assert!(!csv_rows(&dir.join("latency.csv")).is_empty());
}

/// Waits for a child, killing it (and failing) past the deadline.
fn wait_with_deadline(mut child: Child, deadline: Duration) -> std::process::Output {
    let until = Instant::now() + deadline;
    loop {
        if child.try_wait().expect("poll loadrun").is_some() {
            return child.wait_with_output().expect("loadrun output");
        }
        if Instant::now() > until {
            let _ = child.kill();
            let out = child.wait_with_output().expect("loadrun output");
            panic!("loadrun hung past {deadline:?}; stderr: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn comparing_memory_and_nats_writes_one_side_by_side_row_per_stage() {
    let server = Server::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "pair.toml",
        &format!(
            "[defaults]\ntopics = 2\nkeys = 20\nsettle = \"5s\"\n\n\
             [[compare]]\nkind = \"memory\"\nworkers = 8\n\n\
             [[compare]]\nkind = \"nats\"\nurl = \"{}\"\n\n\
             [[stage]]\nname = \"small\"\nmessages = 300\n\n\
             [[stage]]\nname = \"large\"\nmessages = 3000\n",
            server.url()
        ),
    );
    let out = scratch.run(&[scenario.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    let rows = csv_rows(&dir.join("comparison.csv"));
    let stages: Vec<&str> = rows.iter().map(|r| r["stage"].as_str()).collect();
    assert_eq!(stages, ["small", "large"]);
    let summary = csv_rows(&dir.join("summary.csv"));
    for row in &rows {
        for bus in ["memory", "nats"] {
            let own = summary
                .iter()
                .find(|s| s["stage"] == row["stage"] && s["bus"] == bus)
                .expect("a summary row for every stage and bus");
            assert_eq!(row[&format!("{bus}_lost")], "0");
            assert_eq!(row[&format!("{bus}_verdict")], "clean");
            assert_eq!(row[&format!("{bus}_e2e_p99_us")], own["e2e_p99_us"]);
            assert!(num(row, &format!("{bus}_throughput_msg_s")) > 0.0, "{row:?}");
            assert_eq!(row[&format!("{bus}_threads_delta")], "0");
        }
    }
    let stdout = text(&out.stdout);
    assert!(stdout.contains("memory") && stdout.contains("nats"), "{stdout}");
    assert!(stdout.contains("throughput"), "no comparison table printed: {stdout}");
}

#[test]
fn publish_only_stages_on_core_nats_and_jetstream_count_every_acknowledged_message() {
    let server = Server::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "firehose.toml",
        &format!(
            "[defaults]\ntopics = 2\nkeys = 20\nsettle = \"5s\"\nconsume = false\n\n\
             [[compare]]\nkind = \"nats\"\nurl = \"{0}\"\n\n\
             [[compare]]\nkind = \"nats\"\nurl = \"{0}\"\njetstream = true\n\n\
             [[stage]]\nname = \"firehose\"\nmessages = 20000\n",
            server.url()
        ),
    );
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    let summary = csv_rows(&dir.join("summary.csv"));
    let buses: Vec<&str> = summary.iter().map(|r| r["bus"].as_str()).collect();
    assert_eq!(buses, ["nats", "nats-jetstream"]);
    for row in &summary {
        assert_eq!(num(row, "sent"), 20000.0, "{row:?}");
        assert_eq!(num(row, "acked"), 20000.0, "every message flushed or acknowledged: {row:?}");
        assert_eq!(num(row, "errors"), 0.0, "{row:?}");
        assert!(num(row, "publish_p99_us") > 0.0, "{row:?}");
        assert_eq!((row["status"].as_str(), row["verdict"].as_str()), ("ok", "clean"));
        assert_eq!(row["received"], "", "nothing subscribed: {row:?}");
    }
    let comparison = csv_rows(&dir.join("comparison.csv"));
    let row = &comparison[0];
    assert!(num(row, "nats_throughput_msg_s") > 0.0, "publish rate compared: {row:?}");
    assert_eq!(row["nats_e2e_p99_us"], "", "{row:?}");
    assert_eq!(server.streams(), 0, "the publish-only stream outlived its stage");
}

#[test]
fn a_core_subscriber_that_falls_behind_counts_dropped_messages_as_lost_and_ends_the_stage_early() {
    let server = Server::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "behind.toml",
        &format!(
            "[bus]\nkind = \"nats\"\nurl = \"{}\"\n\n\
             [[stage]]\nname = \"behind\"\nmessages = 300000\ntopics = 1\n\
             timeout = \"60s\"\nsettle = \"5s\"\n",
            server.url()
        ),
    );
    // the subscriber pauses 3 s at its first message while the rest pour in
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet", "--inject-stall", "3s"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));

    let row = &csv_rows(&scratch.result_dir().join("summary.csv"))[0];
    let (sent, received, lost) = (num(row, "sent"), num(row, "received"), num(row, "lost"));
    assert_eq!(sent, 300000.0, "{row:?}");
    assert!(received > 0.0 && lost > 0.0, "some arrived, some were dropped: {row:?}");
    assert_eq!(lost, sent - received, "{row:?}");
    assert_eq!(row["status"], "failed");
    assert!(row["reason"].contains("slow-consumer"), "{row:?}");
    assert!(row["reason"].contains(&format!("{received} of 300000 messages arrived")), "{row:?}");
    // it ended once the end marker proved the rest gone, not at the timeout
    assert!(num(row, "duration_s") < 30.0, "waited out the stage timeout: {row:?}");
    assert_eq!(row["verdict"], "clean", "{row:?}");
}

#[test]
fn the_shipped_comparison_runs_the_ladder_on_the_kafka_mock_and_on_nats_side_by_side() {
    let server = Server::start();
    let scratch = Scratch::new();
    let shipped = format!("{}/scenarios/compare.toml", env!("CARGO_MANIFEST_DIR"));
    let out = scratch.run(&[&shipped, "--url", &server.url()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    let summary = csv_rows(&dir.join("summary.csv"));
    let runs: Vec<(&str, &str)> =
        summary.iter().map(|r| (r["stage"].as_str(), r["bus"].as_str())).collect();
    let ladder = ["low", "medium", "high", "extreme"];
    let mut expected: Vec<(&str, &str)> = ladder.iter().map(|s| (*s, "kafka")).collect();
    expected.extend(ladder.iter().map(|s| (*s, "nats")));
    assert_eq!(runs, expected, "every stage on kafka, then every stage on nats");

    let comparison = csv_rows(&dir.join("comparison.csv"));
    let stages: Vec<&str> = comparison.iter().map(|r| r["stage"].as_str()).collect();
    assert_eq!(stages, ladder);
    for row in &comparison {
        for bus in ["kafka", "nats"] {
            assert_eq!(row[&format!("{bus}_status")], "ok", "{row:?}");
            assert_eq!(row[&format!("{bus}_lost")], "0", "{row:?}");
            assert_eq!(row[&format!("{bus}_verdict")], "clean", "{row:?}");
            assert!(num(row, &format!("{bus}_throughput_msg_s")) > 0.0, "{row:?}");
            assert!(num(row, &format!("{bus}_e2e_p99_us")) > 0.0, "{row:?}");
        }
    }
    let stdout = text(&out.stdout);
    assert!(stdout.contains("throughput/s") && stdout.contains("kafka"), "{stdout}");
}

#[test]
fn a_kept_file_stream_holds_exactly_the_messages_the_stage_counted_as_sent() {
    let server = Server::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "kept.toml",
        &format!(
            "[bus]\nkind = \"nats\"\nurl = \"{}\"\njetstream = true\nstorage = \"file\"\n\
             keep_topics = true\n\n[[stage]]\nname = \"kept\"\nmessages = 3000\ntopics = 2\n",
            server.url()
        ),
    );
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));

    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    let sent = num(&csv_rows(&dir.join("summary.csv"))[0], "sent");
    let streams = server.stream_details();
    assert_eq!(streams.len(), 1, "one stream for the stage, kept: {streams:?}");
    let (name, storage, held) = &streams[0];
    assert!(name.starts_with("loadrun-") && name.ends_with("-kept"), "{name}");
    assert_eq!(storage, "file");
    assert_eq!(*held as f64, sent, "the stream holds what loadrun counted as sent");
}
