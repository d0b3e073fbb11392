//! Creating and deleting the stage's topics. On a real cluster the admin
//! client creates them and loadrun waits until the metadata shows every
//! partition with a leader; the mock cluster does not answer CreateTopics,
//! so there the cluster's own call creates them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::TopicResult;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use super::context::Watch;
use super::settings::Brokers;
use super::teardown::off_worker;
use crate::bus::{BusError, Topic};

pub type Admin = AdminClient<Watch>;

/// How long the broker may take over one admin request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The broker's default replication factor (KIP-464).
const BROKER_DEFAULT: i32 = -1;

pub async fn create(
    admin: &Arc<Admin>,
    brokers: &Brokers,
    topics: &[Topic],
) -> Result<(), BusError> {
    if let Brokers::Mock(_) = brokers {
        return create_on_mock(admin, topics);
    }
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            NewTopic::new(&t.name, t.partitions as i32, TopicReplication::Fixed(BROKER_DEFAULT))
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let results = admin
        .create_topics(&new, &options)
        .await
        .map_err(|e| BusError::Failed(format!("creating kafka topics: {e}")))?;
    check("creating", results, None)?;
    until_led(admin, topics).await
}

fn create_on_mock(admin: &Admin, topics: &[Topic]) -> Result<(), BusError> {
    let Some(cluster) = admin.inner().mock_cluster() else {
        return Err(BusError::Failed("the kafka mock cluster is gone".into()));
    };
    for t in topics {
        cluster.create_topic(&t.name, t.partitions as i32, 1).map_err(|e| {
            BusError::Failed(format!("creating topic {} on the mock cluster: {e}", t.name))
        })?;
    }
    Ok(())
}

/// Waits until the metadata lists every partition of `topics` with a
/// leader, so the first messages do not wait for a metadata refresh.
///
/// # Cancel safety
/// Safe to drop: at most one metadata request finishes on its own.
async fn until_led(admin: &Arc<Admin>, topics: &[Topic]) -> Result<(), BusError> {
    let started = Instant::now();
    for t in topics {
        loop {
            let (admin, name) = (admin.clone(), t.name.clone());
            let led = off_worker(move || {
                let metadata = admin.inner().fetch_metadata(Some(&name), REQUEST_TIMEOUT)?;
                let led = metadata
                    .topics()
                    .first()
                    .filter(|topic| topic.error().is_none())
                    .map(|topic| topic.partitions().iter().filter(|p| p.leader() >= 0).count());
                Ok::<_, rdkafka::error::KafkaError>(led)
            })
            .await
            .map_err(|e| BusError::Failed(format!("reading the metadata of {}: {e}", t.name)))?;
            if led == Some(t.partitions as usize) {
                break;
            }
            if started.elapsed() > REQUEST_TIMEOUT {
                return Err(BusError::Timeout {
                    what: format!("waiting for the partitions of {} to have leaders", t.name),
                    after: REQUEST_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

pub async fn delete(admin: &Admin, names: &[String]) -> Result<(), BusError> {
    if names.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let results = admin
        .delete_topics(&names, &options)
        .await
        .map_err(|e| BusError::Failed(format!("deleting kafka topics: {e}")))?;
    // a topic whose creation failed is as good as deleted
    check("deleting", results, Some(RDKafkaErrorCode::UnknownTopicOrPartition))
}

fn check(
    doing: &str,
    results: Vec<TopicResult>,
    harmless: Option<RDKafkaErrorCode>,
) -> Result<(), BusError> {
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err())
        .filter(|(_, code)| Some(*code) != harmless)
        .map(|(topic, code)| format!("{topic} ({code})"))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(BusError::Failed(format!("{doing} kafka topics failed: {}", failed.join(", "))))
    }
}
