//! The resolved scenario, written into the result directory: every default
//! filled in, so a result can be reproduced, and every `${NAME}` value
//! shown as "<redacted>", so no secret lands in a file.

use std::fmt::Write;

use crate::scenario::{show_duration, BusSpec, Scenario, StageSpec, Storage};

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

pub fn render(s: &Scenario) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# resolved by loadrun from {}", s.file.display());
    let _ = writeln!(out, "name = {}", quote(&s.name));
    let _ = writeln!(out, "description = {}", quote(&s.description));
    for (i, bus) in s.buses.iter().enumerate() {
        let header = if s.buses.len() == 1 {
            "[bus]".to_string()
        } else {
            format!("[[compare]] # {}", i + 1)
        };
        render_bus(&mut out, &header, bus);
    }
    for stage in &s.stages {
        render_stage(&mut out, stage);
    }
    out
}

fn render_bus(out: &mut String, header: &str, b: &BusSpec) {
    let _ = writeln!(out, "\n{header}");
    let _ = writeln!(out, "kind = {}", quote(b.kind.name()));
    let _ = writeln!(out, "brokers = {}", quote(&b.brokers.shown()));
    let _ = writeln!(out, "url = {}", quote(&b.url.shown()));
    let _ = writeln!(out, "jetstream = {}", b.jetstream);
    let storage = if b.storage == Storage::File { "file" } else { "memory" };
    let _ = writeln!(out, "storage = {}", quote(storage));
    let _ = writeln!(out, "workers = {}", b.workers);
    let _ = writeln!(out, "queue = {}", b.queue);
    let _ = writeln!(out, "connect_timeout = {}", quote(&show_duration(b.connect_timeout)));
    let _ = writeln!(out, "keep_topics = {}", b.keep_topics);
    if !b.config.is_empty() {
        let table = if header.starts_with("[[") { "compare.config" } else { "bus.config" };
        let _ = writeln!(out, "\n[{table}]");
        for (k, v) in &b.config {
            let _ = writeln!(out, "{} = {}", quote(k), quote(&v.shown()));
        }
    }
}

fn render_stage(out: &mut String, st: &StageSpec) {
    let _ = writeln!(out, "\n[[stage]]");
    let _ = writeln!(out, "name = {}", quote(&st.name));
    let _ = writeln!(out, "messages = {}", st.messages);
    let _ = writeln!(out, "topics = {}", st.topics);
    let _ = writeln!(out, "partitions = {}", st.partitions);
    let _ = writeln!(out, "keys = {}", st.keys);
    let _ = writeln!(out, "message_size = {}", st.message_size);
    let _ = writeln!(out, "producers = {}", st.producers);
    let _ = writeln!(out, "rate = {}", st.rate);
    let _ = writeln!(out, "warmup = {}", st.warmup);
    let _ = writeln!(out, "consume = {}", st.consume);
    let _ = writeln!(out, "timeout = {}", quote(&show_duration(st.timeout)));
    let _ = writeln!(out, "settle = {}", quote(&show_duration(st.settle)));
    let t = &st.thresholds;
    let mut lines = Vec::new();
    let latency = [
        ("e2e_p50", t.e2e_p50),
        ("e2e_p99", t.e2e_p99),
        ("e2e_p999", t.e2e_p999),
        ("e2e_max", t.e2e_max),
        ("publish_p99", t.publish_p99),
        ("publish_max", t.publish_max),
    ];
    for (k, v) in latency {
        if let Some(d) = v {
            lines.push(format!("{k} = {}", quote(&show_duration(d))));
        }
    }
    let counts = [
        ("min_receive_rate", t.min_receive_rate),
        ("max_lost", t.max_lost),
        ("max_duplicated", t.max_duplicated),
        ("max_reordered", t.max_reordered),
        ("max_errors", t.max_errors),
    ];
    for (k, v) in counts {
        if let Some(n) = v {
            lines.push(format!("{k} = {n}"));
        }
    }
    let leaks = match t.leaks {
        crate::scenario::LeakPolicy::Fail => "fail",
        crate::scenario::LeakPolicy::Warn => "warn",
        crate::scenario::LeakPolicy::Ignore => "ignore",
    };
    lines.push(format!("leaks = {}", quote(leaks)));
    let _ = writeln!(out, "\n[stage.thresholds]");
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}
