//! The scenario file exactly as written: every key optional and spanned, so
//! validation can point at the line of a bad value. Nothing here judges the
//! values; `validate` turns this into a resolved `Scenario`.

use serde::Deserialize;
use toml::Spanned;

pub type Text = Option<Spanned<String>>;
pub type Int = Option<Spanned<i64>>;
pub type Flag = Option<Spanned<bool>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Text,
    pub description: Text,
    pub bus: Option<RawBus>,
    pub defaults: Option<Spanned<RawStage>>,
    pub stage: Option<Spanned<Vec<Spanned<RawStage>>>>,
    pub thresholds: Option<Spanned<RawThresholds>>,
    /// One comparison run: the same stages on each of these buses in turn.
    pub compare: Option<Spanned<Vec<Spanned<RawBus>>>>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBus {
    pub kind: Text,
    pub brokers: Text,
    pub url: Text,
    pub jetstream: Flag,
    pub storage: Text,
    pub workers: Int,
    pub queue: Int,
    pub connect_timeout: Text,
    pub keep_topics: Flag,
    pub config: Option<Spanned<toml::Table>>,
}

/// The keys a stage may set; `[defaults]` uses the same shape, so every
/// stage key has a default and nothing is written twice.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: Text,
    pub messages: Int,
    pub topics: Int,
    pub partitions: Int,
    pub keys: Int,
    pub message_size: Int,
    pub producers: Int,
    pub rate: Int,
    pub warmup: Int,
    /// false: publish only, nothing subscribes.
    pub consume: Flag,
    pub timeout: Text,
    pub settle: Text,
    pub thresholds: Option<Spanned<RawThresholds>>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawThresholds {
    pub e2e_p50: Text,
    pub e2e_p99: Text,
    pub e2e_p999: Text,
    pub e2e_max: Text,
    pub publish_p99: Text,
    pub publish_max: Text,
    pub min_receive_rate: Int,
    pub max_lost: Int,
    pub max_duplicated: Int,
    pub max_reordered: Int,
    pub max_errors: Int,
    pub leaks: Text,
}
