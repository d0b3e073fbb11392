//! `cargo bench --bench memory_bus`: one million messages through loadrun's
//! memory-bus stage (the release binary, as a user runs it) against a bare
//! tokio channel moving the same messages (256-byte payloads with the same
//! header, two producers, one consumer) in the same run. Each side runs five
//! times, alternating; the medians and their ratio are printed. Also times
//! scenarios/extreme.toml end to end, settles included.

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::mpsc;

const MESSAGES: u64 = 1_000_000;
const SIZE: usize = 256;
const ROUNDS: usize = 5;

fn main() {
    let binary = env!("CARGO_BIN_EXE_loadrun");
    let results = tempfile::tempdir().expect("temp dir");
    let mut bare = Vec::new();
    let mut ours = Vec::new();
    let mut extreme = Vec::new();
    for _ in 0..ROUNDS {
        bare.push(bare_channel());
        ours.push(loadrun_rate(binary, results.path()));
        extreme.push(wall_time(binary, results.path()));
    }
    let (bare, ours, extreme) = (median(bare), median(ours), median(extreme));
    println!("bare tokio channel: {bare:>12.0} messages/s (median of {ROUNDS})");
    println!("loadrun memory bus: {ours:>12.0} messages/s (median of {ROUNDS})");
    println!("ratio loadrun/bare: {:.2} (goal >= 0.5)", ours / bare);
    println!("extreme.toml wall time: {extreme:.2}s (goal < 5s, settles included)");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bare_channel() -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<bytes::Bytes>(1024);
        let started = Instant::now();
        for p in 0..2u64 {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in (p..MESSAGES).step_by(2) {
                    let mut buf = BytesMut::zeroed(SIZE);
                    buf[..3].copy_from_slice(b"LRN");
                    buf[20..28].copy_from_slice(&i.to_le_bytes());
                    if tx.send(buf.freeze()).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut seen = 0u64;
        let mut check = 0u64;
        while let Some(m) = rx.recv().await {
            check ^= u64::from_le_bytes(m[20..28].try_into().unwrap());
            seen += 1;
        }
        assert_eq!(seen, MESSAGES, "{check}");
        MESSAGES as f64 / started.elapsed().as_secs_f64()
    })
}

fn loadrun_rate(binary: &str, results: &std::path::Path) -> f64 {
    let out = Command::new(binary)
        .args(["benches/million.toml", "--json", "--quiet", "--results"])
        .arg(results)
        .output()
        .expect("run loadrun");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stage = &doc["stages"][0];
    assert_eq!(stage["received"], MESSAGES, "{stage}");
    stage["receive_rate"].as_f64().unwrap()
}

fn wall_time(binary: &str, results: &std::path::Path) -> f64 {
    let started = Instant::now();
    let out = Command::new(binary)
        .args(["scenarios/extreme.toml", "--quiet", "--results"])
        .arg(results)
        .output()
        .expect("run loadrun");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = Duration::ZERO;
    started.elapsed().as_secs_f64()
}
