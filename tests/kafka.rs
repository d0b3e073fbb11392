//! The Kafka bus end to end: the real binary on librdkafka's mock cluster,
//! on a tansu broker each test starts on a free loopback port, and against
//! a broker that is not there. A test that needs tansu fails, with the
//! command that installs it, when tansu is missing.

mod common;

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_clean_and_complete, csv_rows, num, text, Scratch};

fn extreme() -> String {
    format!("{}/scenarios/extreme.toml", env!("CARGO_MANIFEST_DIR"))
}

/// One tansu broker with in-memory storage, killed when dropped.
struct Tansu {
    child: Child,
    bootstrap: String,
    _dir: tempfile::TempDir,
}

impl Tansu {
    fn start() -> Tansu {
        let binary = tansu_binary().unwrap_or_else(|| {
            panic!(
                "tansu is not installed: run scripts/install-tansu.sh \
                 (cargo install tansu --locked --features dynostore)"
            )
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("tansu.log")).expect("tansu log");
        let child = Command::new(&binary)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary:?}: {e}"));
        let mut tansu = Tansu { child, bootstrap: format!("127.0.0.1:{port}"), _dir: dir };
        tansu.wait_listening();
        tansu
    }

    fn wait_listening(&mut self) {
        let started = Instant::now();
        while TcpStream::connect(&self.bootstrap).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tansu exited at start with {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "tansu is not listening");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tansu_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|p| p.join("tansu")).collect::<Vec<_>>())
        .unwrap_or_default();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    on_path.into_iter().chain(home.map(|h| h.join("bin/tansu"))).find(|p| p.is_file())
}

/// A loopback port nothing listens on (the listener is closed again).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Runs a confluent-kafka snippet against `bootstrap`; its stdout.
fn python(script: &str, bootstrap: &str) -> String {
    let probe = Command::new("python3").args(["-c", "import confluent_kafka"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        _ => panic!("python3 with confluent-kafka is missing: run scripts/install-python-peers.sh"),
    }
    let out =
        Command::new("python3").args(["-c", script, bootstrap]).output().expect("run python3");
    assert!(out.status.success(), "python peer failed: {}", text(&out.stderr));
    text(&out.stdout)
}

const LIST_TOPICS: &str = r#"
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
for name in sorted(admin.list_topics(timeout=10).topics):
    print(name)
"#;

/// Reads every partition of the one loadrun topic from offset 0 until
/// nothing more comes for two seconds, and counts the messages that carry
/// loadrun's envelope; then sums the high watermarks the fetches reported.
/// (tansu 0.6 answers ListOffsets for the latest offset wrongly, so the
/// watermarks come from the fetch responses, not from a query.)
const COUNT_KEPT: &str = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
bootstrap = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bootstrap})
topics = [t for t in admin.list_topics(timeout=10).topics.values() if t.topic.startswith("loadrun-")]
assert len(topics) == 1, [t.topic for t in topics]
topic = topics[0]
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "count-kept",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
consumer.assign([TopicPartition(topic.topic, p, 0) for p in topic.partitions])
count, last = 0, time.monotonic()
while time.monotonic() - last < 2.0:
    message = consumer.poll(0.1)
    if message is None or message.error():
        continue
    last = time.monotonic()
    if message.value()[:3] == b"LRN":
        count += 1
ends = sum(consumer.get_watermark_offsets(TopicPartition(topic.topic, p), cached=True)[1]
           for p in topic.partitions)
consumer.close()
print(topic.topic, count, ends)
"#;

/// The rows of resources.csv for librdkafka's thread count.
fn rdkafka_rows(dir: &Path) -> Vec<HashMap<String, String>> {
    let rows: Vec<_> = csv_rows(&dir.join("resources.csv"))
        .into_iter()
        .filter(|r| r["resource"] == "rdkafka_threads")
        .collect();
    assert!(!rows.is_empty(), "resources.csv has no rdkafka_threads rows");
    rows
}

fn assert_ladder_complete_and_clean(scratch: &Scratch, out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let dir = scratch.result_dir();
    assert_clean_and_complete(&dir);
    let summary = csv_rows(&dir.join("summary.csv"));
    let stages: Vec<&str> = summary.iter().map(|r| r["stage"].as_str()).collect();
    assert_eq!(stages, ["low", "medium", "high", "extreme"]);
    for row in &summary {
        // every delivery report reached the recorder as publish latency
        assert_eq!(num(row, "acked"), num(row, "sent"), "{row:?}");
        assert!(num(row, "publish_p99_us") > 0.0, "no publish latency: {row:?}");
    }
    for row in rdkafka_rows(&dir) {
        assert!(num(&row, "peak") > 0.0, "librdkafka never ran: {row:?}");
        assert_eq!(num(&row, "after_settle"), num(&row, "baseline"), "{row:?}");
        assert_eq!(num(&row, "after_settle"), 0.0, "{row:?}");
    }
}

#[test]
fn extreme_ladder_on_the_mock_cluster_delivers_every_message_and_settles_clean() {
    let scratch = Scratch::new();
    let out = scratch.run(&[&extreme(), "--bus", "kafka", "--brokers", "mock", "--quiet"]);
    assert_ladder_complete_and_clean(&scratch, &out);
}

#[test]
fn extreme_ladder_on_tansu_delivers_every_message_settles_clean_and_deletes_its_topics() {
    let tansu = Tansu::start();
    let scratch = Scratch::new();
    let out =
        scratch.run(&[&extreme(), "--bus", "kafka", "--brokers", &tansu.bootstrap, "--quiet"]);
    assert_ladder_complete_and_clean(&scratch, &out);
    let left: Vec<String> = python(LIST_TOPICS, &tansu.bootstrap)
        .lines()
        .filter(|t| t.starts_with("loadrun-"))
        .map(String::from)
        .collect();
    assert!(left.is_empty(), "topics left on the broker: {left:?}");
}

#[test]
fn kept_topic_holds_exactly_the_messages_loadrun_counted_as_sent() {
    let tansu = Tansu::start();
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "kept.toml",
        &format!(
            r#"
[bus]
kind = "kafka"
brokers = "{}"
keep_topics = true

[defaults]
topics = 1
partitions = 3
keys = 50

[[stage]]
name = "kept"
messages = 3000
timeout = "1m"
"#,
            tansu.bootstrap
        ),
    );
    let out = scratch.run(&[scenario.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let summary = csv_rows(&scratch.result_dir().join("summary.csv"));
    let sent = num(&summary[0], "sent") as u64;
    assert_eq!(sent, 3000);

    let counted = python(COUNT_KEPT, &tansu.bootstrap);
    let fields: Vec<&str> = counted.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "unexpected peer output: {counted}");
    assert!(fields[0].contains("-kept-"), "not the stage's topic: {counted}");
    assert_eq!(fields[1].parse::<u64>().unwrap(), sent, "messages read back: {counted}");
    assert_eq!(fields[2].parse::<u64>().unwrap(), sent, "high watermarks: {counted}");
}

#[test]
fn unreachable_broker_fails_within_connect_timeout_naming_the_broker() {
    let scratch = Scratch::new();
    let broker = format!("127.0.0.1:{}", free_port());
    let scenario = scratch.scenario(
        "unreachable.toml",
        &format!(
            r#"
[bus]
kind = "kafka"
brokers = "{broker}"
connect_timeout = "3s"

[[stage]]
name = "only"
messages = 10
"#
        ),
    );
    let started = Instant::now();
    let out = scratch.run(&[scenario.to_str().unwrap()]);
    let took = started.elapsed();
    let said = format!("{}{}", text(&out.stderr), text(&out.stdout));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains(&format!("cannot reach kafka brokers {broker}")), "{said}");
    assert!(took < Duration::from_secs(3), "took {took:?}: {said}");
    let dir = scratch.result_dir();
    for row in rdkafka_rows(&dir) {
        assert_eq!(num(&row, "after_settle"), 0.0, "a librdkafka thread stayed: {row:?}");
    }
}

#[test]
fn a_property_librdkafka_rejects_fails_the_stage_naming_the_property() {
    let scratch = Scratch::new();
    let scenario = scratch.scenario(
        "rejected.toml",
        r#"
[bus]
kind = "kafka"
brokers = "mock"

[bus.config]
"linger.ms" = "5"
"no.such.property" = "1"

[[stage]]
name = "only"
messages = 10
"#,
    );
    let out = scratch.run(&[scenario.to_str().unwrap()]);
    let said = format!("{}{}", text(&out.stderr), text(&out.stdout));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("kafka property 'no.such.property'"), "{said}");
    let summary = csv_rows(&scratch.result_dir().join("summary.csv"));
    assert_eq!(summary[0]["status"], "failed");
}

#[test]
fn a_broker_killed_mid_stage_fails_that_stage_and_the_run_ends_within_its_deadlines() {
    let mut tansu = Tansu::start();
    let s = Scratch::new();
    let scenario = s.scenario(
        "killed.toml",
        &format!(
            "[bus]\nkind = \"kafka\"\nbrokers = \"{}\"\nconnect_timeout = \"3s\"\n\n\
             [[stage]]\nname = \"doomed\"\nmessages = 40000\nrate = 2000\ntimeout = \"12s\"\n\
             settle = \"5s\"\n\n[[stage]]\nname = \"after\"\nmessages = 100\n",
            tansu.bootstrap
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadrun"))
        .args([scenario.to_str().unwrap(), "--results"])
        .arg(s.results())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadrun");
    std::thread::sleep(Duration::from_secs(4));
    let killed_at = Instant::now();
    let _ = tansu.child.kill();
    let _ = tansu.child.wait();
    let deadline = Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            killed_at.elapsed() < deadline,
            "loadrun still running {deadline:?} after the kill"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    // the next stage cannot reach the broker: the run stops there with 2
    assert_eq!(status.code(), Some(2), "{stderr}");
    let rows = csv_rows(&s.result_dir().join("summary.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let doomed = &rows[0];
    assert!(["failed", "timed_out"].contains(&doomed["status"].as_str()), "{doomed:?}");
    assert!(!doomed["reason"].is_empty(), "a failed stage says why: {doomed:?}");
    assert!(num(doomed, "sent") > 0.0 && num(doomed, "received") < 40000.0, "{doomed:?}");
    assert_eq!(rows[1]["status"], "failed");
    assert!(rows[1]["reason"].contains(&tansu.bootstrap), "{:?}", rows[1]);
    for file in ["resources.csv", "latency.csv", "timeline.csv"] {
        assert!(!csv_rows(&s.result_dir().join(file)).is_empty(), "{file}");
    }
}
