//! The resolved scenario: every default applied, every value checked and
//! typed. The runner never sees a raw value.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub file: std::path::PathBuf,
    /// One bus normally; several when the scenario compares buses.
    pub buses: Vec<BusSpec>,
    pub stages: Vec<StageSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    Memory,
    Kafka,
    Nats,
}

impl BusKind {
    pub fn name(self) -> &'static str {
        match self {
            BusKind::Memory => "memory",
            BusKind::Kafka => "kafka",
            BusKind::Nats => "nats",
        }
    }

    pub fn parse(text: &str) -> Option<BusKind> {
        match text {
            "memory" => Some(BusKind::Memory),
            "kafka" => Some(BusKind::Kafka),
            "nats" => Some(BusKind::Nats),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Memory,
    File,
}

#[derive(Debug, Clone)]
pub struct BusSpec {
    pub kind: BusKind,
    /// Kafka bootstrap list, or "mock" / "mock:N".
    pub brokers: Secret,
    pub url: Secret,
    pub jetstream: bool,
    pub storage: Storage,
    /// Memory bus: size of the keyed worker pool.
    pub workers: usize,
    /// Memory bus: capacity of each worker's queue.
    pub queue: usize,
    pub connect_timeout: Duration,
    pub keep_topics: bool,
    /// librdkafka properties, passed through (values may be secrets).
    pub config: Vec<(String, Secret)>,
}

impl BusSpec {
    /// The label used in result rows: the kind, plus "jetstream" for NATS
    /// streams, so a comparison of core and JetStream stays readable.
    pub fn label(&self) -> String {
        match (self.kind, self.jetstream) {
            (BusKind::Nats, true) => "nats-jetstream".into(),
            (kind, _) => kind.name().into(),
        }
    }
}

/// A value read from `${NAME}`: used as it is, shown as "<redacted>".
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub value: String,
    pub from_env: bool,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Secret {
    pub fn plain(value: impl Into<String>) -> Secret {
        Secret { value: value.into(), from_env: false }
    }

    pub fn shown(&self) -> String {
        if self.from_env {
            "<redacted>".into()
        } else {
            self.value.clone()
        }
    }
}

#[derive(Debug, Clone)]
pub struct StageSpec {
    pub name: String,
    pub messages: u64,
    pub topics: u32,
    pub partitions: u32,
    pub keys: u32,
    pub message_size: usize,
    pub producers: u32,
    /// Messages per second for the whole stage; 0 means as fast as possible.
    pub rate: u64,
    /// Messages per stage left out of every figure.
    pub warmup: u64,
    /// False: publish only. Nothing subscribes, so received, loss, order
    /// and end-to-end latency are not measured (empty in the results).
    pub consume: bool,
    pub timeout: Duration,
    pub settle: Duration,
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakPolicy {
    Fail,
    Warn,
    Ignore,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub e2e_p50: Option<Duration>,
    pub e2e_p99: Option<Duration>,
    pub e2e_p999: Option<Duration>,
    pub e2e_max: Option<Duration>,
    pub publish_p99: Option<Duration>,
    pub publish_max: Option<Duration>,
    pub min_receive_rate: Option<u64>,
    pub max_lost: Option<u64>,
    pub max_duplicated: Option<u64>,
    pub max_reordered: Option<u64>,
    pub max_errors: Option<u64>,
    pub leaks: LeakPolicy,
}

impl Thresholds {
    /// The first limit set here that only a stage with consumers can check.
    pub fn needs_consumers(&self) -> Option<&'static str> {
        let latency = [
            ("e2e_p50", self.e2e_p50),
            ("e2e_p99", self.e2e_p99),
            ("e2e_p999", self.e2e_p999),
            ("e2e_max", self.e2e_max),
        ];
        let counts = [
            ("min_receive_rate", self.min_receive_rate),
            ("max_lost", self.max_lost),
            ("max_duplicated", self.max_duplicated),
            ("max_reordered", self.max_reordered),
        ];
        let set = latency.iter().find(|(_, v)| v.is_some()).map(|(k, _)| *k);
        set.or_else(|| counts.iter().find(|(_, v)| v.is_some()).map(|(k, _)| *k))
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            e2e_p50: None,
            e2e_p99: None,
            e2e_p999: None,
            e2e_max: None,
            publish_p99: None,
            publish_max: None,
            min_receive_rate: None,
            max_lost: None,
            max_duplicated: None,
            max_reordered: None,
            max_errors: None,
            leaks: LeakPolicy::Fail,
        }
    }
}
