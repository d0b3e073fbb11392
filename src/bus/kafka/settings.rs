//! What a Kafka stage is configured with: where the brokers are (a real
//! bootstrap list or librdkafka's in-process mock cluster), and the
//! librdkafka properties of each client, loadrun's defaults first and the
//! scenario's `[bus.config]` over them, so a user can change any of them.

use std::time::Duration;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;

use crate::bus::{BusError, StageInfo};
use crate::scenario::BusSpec;

const MAX_MOCK_BROKERS: u32 = 16;

/// The longest a fetch waits on the broker for data (librdkafka: 500 ms).
/// Kafka answers a waiting fetch as soon as data arrives, but the mock
/// cluster and tansu hold it for the whole wait, which would put half a
/// second into every end-to-end latency; elsewhere a short wait only
/// costs a few idle fetch requests.
const FETCH_WAIT_MS: &str = "10";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Brokers {
    /// librdkafka's in-process mock cluster with this many brokers.
    Mock(u32),
    /// A bootstrap list, `host:port,...`.
    List(String),
}

impl Brokers {
    pub fn parse(text: &str) -> Result<Brokers, String> {
        let text = text.trim();
        if text == "mock" {
            return Ok(Brokers::Mock(1));
        }
        if let Some(count) = text.strip_prefix("mock:") {
            return match count.parse::<u32>() {
                Ok(n) if (1..=MAX_MOCK_BROKERS).contains(&n) => Ok(Brokers::Mock(n)),
                _ => Err(format!(
                    "kafka brokers 'mock:{count}': the mock cluster takes 1 to \
                     {MAX_MOCK_BROKERS} brokers"
                )),
            };
        }
        if text.is_empty() {
            return Err("kafka brokers: the bootstrap list is empty".into());
        }
        Ok(Brokers::List(text.to_string()))
    }
}

/// The clients a stage builds, each with its own defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Producer,
    Consumer,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin client",
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }
}

/// A `[bus.config]` entry: the value given to librdkafka and the value
/// errors may show (a secret from the environment stays redacted).
struct Property {
    key: String,
    value: String,
    shown: String,
}

pub struct Settings {
    pub brokers: Brokers,
    /// The bootstrap list as messages may show it.
    pub shown: String,
    pub connect_timeout: Duration,
    pub keep_topics: bool,
    group: String,
    properties: Vec<Property>,
}

impl Settings {
    pub fn new(spec: &BusSpec, info: &StageInfo) -> Result<Settings, BusError> {
        let brokers = Brokers::parse(&spec.brokers.value).map_err(BusError::Failed)?;
        let properties = spec
            .config
            .iter()
            .map(|(key, secret)| Property {
                key: key.clone(),
                value: secret.value.clone(),
                shown: secret.shown(),
            })
            .collect();
        Ok(Settings {
            brokers,
            shown: spec.brokers.shown(),
            connect_timeout: spec.connect_timeout,
            keep_topics: spec.keep_topics,
            group: format!("loadrun-{}-{}", info.run_id, info.stage),
            properties,
        })
    }

    /// The configuration of one client. `bootstrap` is the mock cluster's
    /// address once the admin client has started it; without it a mock
    /// setting starts the cluster.
    pub fn client(&self, role: Role, bootstrap: Option<&str>) -> ClientConfig {
        let mut config = ClientConfig::new();
        match (&self.brokers, bootstrap) {
            (_, Some(address)) => config.set("bootstrap.servers", address),
            (Brokers::Mock(n), None) => config.set("test.mock.num.brokers", n.to_string()),
            (Brokers::List(list), None) => config.set("bootstrap.servers", list),
        };
        config.set_log_level(RDKafkaLogLevel::Info);
        if role == Role::Consumer {
            // partitions are assigned, not subscribed: the group only names
            // the stage, and nothing is committed
            config
                .set("group.id", &self.group)
                .set("enable.auto.commit", "false")
                .set("auto.offset.reset", "earliest")
                .set("enable.partition.eof", "false")
                .set("fetch.wait.max.ms", FETCH_WAIT_MS);
        }
        for p in &self.properties {
            config.set(&p.key, &p.value);
        }
        config
    }

    /// Turns librdkafka's refusal to build a client into a message that
    /// names the property it rejected, without showing a secret value.
    pub fn rejected(&self, role: Role, error: KafkaError) -> BusError {
        let text = match error {
            KafkaError::ClientConfig(_, description, key, value) => {
                let shown = self.properties.iter().find(|p| p.key == key).map(|p| &p.shown);
                let (description, value) = match shown {
                    Some(shown) if *shown != value && !value.is_empty() => {
                        (description.replace(&value, shown), shown.clone())
                    }
                    _ => (description, value),
                };
                format!(
                    "kafka property '{key}' = '{value}' was rejected: {}",
                    description.trim_end_matches('.')
                )
            }
            KafkaError::ClientCreation(reason) => format!(
                "librdkafka cannot build the {} with this configuration: {}",
                role.name(),
                reason.trim_end_matches('.')
            ),
            other => format!("cannot build the kafka {}: {other}", role.name()),
        };
        BusError::Failed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Secret;

    #[test]
    fn brokers_name_the_mock_cluster_or_a_bootstrap_list() {
        assert_eq!(Brokers::parse("mock"), Ok(Brokers::Mock(1)));
        assert_eq!(Brokers::parse("mock:3"), Ok(Brokers::Mock(3)));
        assert!(Brokers::parse("mock:0").unwrap_err().contains("1 to 16"));
        assert!(Brokers::parse("mock:x").is_err());
        assert!(Brokers::parse(" ").is_err());
        let list = "10.0.0.1:9092,10.0.0.2:9092";
        assert_eq!(Brokers::parse(list), Ok(Brokers::List(list.into())));
    }

    fn settings(config: Vec<(String, Secret)>) -> Settings {
        let spec = BusSpec {
            kind: crate::scenario::BusKind::Kafka,
            brokers: Secret::plain("127.0.0.1:9092"),
            url: Secret::plain(""),
            jetstream: false,
            storage: crate::scenario::Storage::Memory,
            workers: 1,
            queue: 1,
            connect_timeout: Duration::from_secs(1),
            keep_topics: false,
            config,
        };
        let info = StageInfo { run_id: "r1".into(), stage: "low".into() };
        Settings::new(&spec, &info).unwrap()
    }

    #[test]
    fn scenario_properties_override_the_consumer_defaults() {
        let s = settings(vec![("auto.offset.reset".into(), Secret::plain("latest"))]);
        let consumer = s.client(Role::Consumer, None);
        assert_eq!(consumer.get("auto.offset.reset"), Some("latest"));
        assert_eq!(consumer.get("group.id"), Some("loadrun-r1-low"));
        assert_eq!(s.client(Role::Producer, None).get("group.id"), None);
        let mock = s.client(Role::Producer, Some("127.0.0.1:1234"));
        assert_eq!(mock.get("bootstrap.servers"), Some("127.0.0.1:1234"));
    }

    #[test]
    fn a_rejected_property_is_named_and_a_secret_stays_hidden() {
        let secret = Secret { value: "hunter2".into(), from_env: true };
        let s = settings(vec![("sasl.password".into(), secret)]);
        let error = KafkaError::ClientConfig(
            rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "Invalid value \"hunter2\" for configuration property \"sasl.password\"".into(),
            "sasl.password".into(),
            "hunter2".into(),
        );
        let text = s.rejected(Role::Producer, error).to_string();
        assert!(text.contains("'sasl.password'"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
