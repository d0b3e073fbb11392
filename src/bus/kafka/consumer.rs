//! The stage's consumer. Rather than joining a consumer group and waiting
//! for a rebalance, it is assigned every partition of the stage's topics
//! from offset 0: the topics are new, so nothing published after the
//! assignment can be missed, whenever the fetchers actually start.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::context::{Notes, Watch};
use super::runtime::CrewRuntime;
use crate::bus::Topic;
use crate::metrics::Recorder;

pub type Consumer = StreamConsumer<Watch, CrewRuntime>;

/// A pause after a consumer error, so a broken connection cannot spin.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Every partition of `topics`, from the first offset.
pub fn assignment(topics: &[Topic]) -> KafkaResult<TopicPartitionList> {
    let mut list = TopicPartitionList::new();
    for topic in topics {
        for partition in 0..topic.partitions {
            list.add_partition_offset(&topic.name, partition as i32, Offset::Offset(0))?;
        }
    }
    Ok(list)
}

/// Hands every message to the recorder until either token is cancelled.
pub async fn consume(
    consumer: Arc<Consumer>,
    recorder: Arc<Recorder>,
    notes: Arc<Notes>,
    stage: CancellationToken,
    bus: CancellationToken,
) {
    let stopped = async {
        tokio::select! {
            _ = stage.cancelled() => {}
            _ = bus.cancelled() => {}
        }
    };
    tokio::pin!(stopped);
    loop {
        let received = tokio::select! {
            biased;
            _ = &mut stopped => return,
            received = consumer.recv() => received,
        };
        match received {
            Ok(message) => {
                if let Some(payload) = message.payload() {
                    recorder.delivered(payload);
                }
            }
            Err(e) => {
                notes.note(format!("consumer: {e}"));
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(ERROR_PAUSE) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assignment_covers_every_partition_from_the_start() {
        let topics =
            [Topic { name: "a".into(), partitions: 3 }, Topic { name: "b".into(), partitions: 1 }];
        let list = assignment(&topics).unwrap();
        assert_eq!(list.count(), 4);
        for element in list.elements() {
            assert_eq!(element.offset(), Offset::Offset(0));
        }
        assert!(list.find_partition("a", 2).is_some());
        assert!(list.find_partition("b", 1).is_none());
    }
}
