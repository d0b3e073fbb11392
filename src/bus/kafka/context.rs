//! The calls librdkafka makes into loadrun. Log lines and client errors go
//! to `tracing` under the `librdkafka` target and into the bus's notes (the
//! last error explains an unreachable broker; the distinct ones become the
//! stage's events). The producer's delivery reports become publish latency.

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use crate::message::Header;
use crate::metrics::Recorder;

/// Distinct events kept per stage; a broker that flaps says the same thing
/// many times.
const MAX_EVENTS: usize = 20;

/// What the clients of one stage noticed out of band.
#[derive(Default)]
pub struct Notes {
    events: Mutex<Vec<String>>,
    last_error: Mutex<Option<String>>,
}

impl Notes {
    pub fn note(&self, text: String) {
        self.event(&text);
        *self.last_error.lock() = Some(text);
    }

    /// An event that explains less than the errors before it (librdkafka
    /// follows every failed connection with "all brokers are down").
    fn summary(&self, text: String) {
        self.event(&text);
        self.last_error.lock().get_or_insert(text);
    }

    fn event(&self, text: &str) {
        let mut events = self.events.lock();
        if events.len() < MAX_EVENTS && !events.iter().any(|e| e == text) {
            events.push(text.to_string());
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    pub fn events(&self) -> Vec<String> {
        self.events.lock().clone()
    }
}

/// The context of the admin client and the consumer.
#[derive(Clone)]
pub struct Watch {
    notes: Arc<Notes>,
}

impl Watch {
    pub fn new(notes: &Arc<Notes>) -> Watch {
        Watch { notes: notes.clone() }
    }
}

impl ClientContext for Watch {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        forward(level, facility, line);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // connection failures repeat with every retry; the stage reports
        // them once, as events, or as the reason a broker is unreachable
        tracing::debug!(target: "librdkafka", "{error}: {reason}");
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::AllBrokersDown) => self.notes.summary(reason.to_string()),
            _ => self.notes.note(reason.to_string()),
        }
    }
}

impl ConsumerContext for Watch {}

/// The producer's context: delivery reports go to the stage's recorder,
/// which the first publisher attaches.
pub struct Acks {
    watch: Watch,
    recorder: OnceLock<Arc<Recorder>>,
}

impl Acks {
    pub fn new(notes: &Arc<Notes>) -> Acks {
        Acks { watch: Watch::new(notes), recorder: OnceLock::new() }
    }

    pub fn attach(&self, recorder: &Arc<Recorder>) {
        // a bus serves one stage, so every publisher brings the same recorder
        let _ = self.recorder.set(recorder.clone());
    }
}

impl ClientContext for Acks {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        forward(level, facility, line);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.watch.error(error, reason);
    }
}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let Some(recorder) = self.recorder.get() else {
            return;
        };
        match result {
            Ok(message) => {
                if let Some(header) = message.payload().and_then(Header::read) {
                    recorder.acked(&header);
                }
            }
            Err((error, message)) => {
                recorder.failed(&format!("delivery to {} failed: {error}", message.topic()));
            }
        }
    }
}

/// librdkafka's log lines, at their own level under their own target.
fn forward(level: RDKafkaLogLevel, facility: &str, line: &str) {
    match level {
        // a failed connection also comes through the error callback, which
        // keeps it for the stage's events and the unreachable message
        _ if facility == "FAIL" => tracing::debug!(target: "librdkafka", "{facility} {line}"),
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", "{facility} {line}"),
        RDKafkaLogLevel::Warning if is_role_mismatch(facility, line) => {
            tracing::debug!(target: "librdkafka", "{facility} {line}")
        }
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", "{facility} {line}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", "{facility} {line}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", "{facility} {line}"),
    }
}

/// `[bus.config]` goes to every client, so a producer property on the
/// consumer (and the reverse) is expected, not worth a warning per stage.
fn is_role_mismatch(facility: &str, line: &str) -> bool {
    facility == "CONFWARN" && line.contains("will be ignored by this")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_keep_each_distinct_event_once_and_the_latest_error() {
        let notes = Notes::default();
        for i in 0..50 {
            notes.note(format!("broker {} down", i % 30));
        }
        notes.note("broker 3 down".into());
        notes.summary("all brokers down".into());
        assert_eq!(notes.events().len(), MAX_EVENTS);
        assert_eq!(notes.last_error().as_deref(), Some("broker 3 down"));
    }

    #[test]
    fn only_property_role_warnings_are_quietened() {
        let line = "Configuration property acks is a producer property and will be ignored by \
                    this consumer instance";
        assert!(is_role_mismatch("CONFWARN", line));
        assert!(!is_role_mismatch("CONFWARN", "Configuration property x is deprecated"));
    }
}
