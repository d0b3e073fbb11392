//! One producer task's handle on the stage's Kafka producer. The producer
//! is shared (librdkafka batches per partition, so one producer with many
//! callers beats many producers); each message is keyed by its key's name,
//! so a key always lands on the same partition and keeps its order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, Producer as _, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

use super::context::Acks;
use crate::bus::{BusError, Offer, Outgoing, Publisher};
use crate::message::key_name;

pub type Producer = ThreadedProducer<Acks>;

/// How long a send waits before retrying when librdkafka's queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(1);

pub struct KafkaPublisher {
    producer: Arc<Producer>,
    topics: Vec<String>,
}

impl KafkaPublisher {
    pub fn new(producer: Arc<Producer>, topics: Vec<String>) -> KafkaPublisher {
        KafkaPublisher { producer, topics }
    }
}

impl KafkaPublisher {
    /// Hands `msg` to librdkafka: false when its queue is full.
    fn produce(&self, msg: &Outgoing) -> Result<bool, BusError> {
        let Some(topic) = self.topics.get(msg.topic) else {
            return Err(BusError::Failed(format!("no kafka topic number {}", msg.topic)));
        };
        let key = key_name(msg.header.key);
        let record = BaseRecord::to(topic).key(key.as_str()).payload(&msg.payload[..]);
        match self.producer.send(record) {
            Ok(()) => Ok(true),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Ok(false),
            Err((e, _)) => Err(BusError::Failed(format!("producing to {topic}: {e}"))),
        }
    }
}

#[async_trait]
impl Publisher for KafkaPublisher {
    /// librdkafka takes a message without waiting unless its queue is full.
    fn offer(&mut self, msg: Outgoing) -> Offer {
        match self.produce(&msg) {
            Ok(true) => Offer::Taken,
            Ok(false) => Offer::Busy(msg),
            Err(e) => Offer::Failed(e),
        }
    }

    async fn send(&mut self, msg: Outgoing) -> Result<(), BusError> {
        // librdkafka's queue is the bound: wait for deliveries to make room
        while !self.produce(&msg)? {
            tokio::time::sleep(QUEUE_FULL_PAUSE).await;
        }
        Ok(())
    }

    async fn flush(&mut self, deadline: Duration) -> Result<(), BusError> {
        // polling the queue length keeps the wait off librdkafka's blocking
        // flush; the count includes reports not yet handed to the recorder
        let until = Instant::now() + deadline;
        while self.producer.in_flight_count() > 0 {
            if Instant::now() >= until {
                let what =
                    format!("{} kafka messages awaiting delivery", self.producer.in_flight_count());
                return Err(BusError::Timeout { what, after: deadline });
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }
}
