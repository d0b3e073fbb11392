//! The Kafka bus: librdkafka through rdkafka. Every stage gets its own
//! admin client, producer and consumer, built and checked against the
//! brokers in `connect`, and its own topics; `close` takes all of it down
//! and returns only once librdkafka's threads are gone. `brokers = "mock"`
//! runs librdkafka's in-process mock cluster, owned by the admin client.

mod consumer;
mod context;
mod publisher;
mod runtime;
mod settings;
mod teardown;
mod topics;

pub use teardown::thread_count;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use rdkafka::config::FromClientConfigAndContext as _;
use rdkafka::consumer::Consumer as _;
use rdkafka::producer::Producer as _;
use tokio_util::sync::CancellationToken;

use super::{Bus, BusError, Publisher, StageInfo, Topic};
use crate::crew::Crew;
use crate::metrics::Recorder;
use crate::scenario::{show_duration, BusSpec};
use consumer::{consume, Consumer};
use context::{Acks, Notes, Watch};
use publisher::{KafkaPublisher, Producer};
use runtime::CrewRuntime;
use settings::{Brokers, Role, Settings};
use teardown::{off_worker, threads_gone};
use topics::Admin;

/// The part of the connect timeout the first metadata request may take;
/// the rest is for taking the clients down again when it fails.
const REACH_SHARE: f64 = 2.0 / 3.0;
/// The least time a failed connect gets to end librdkafka's threads.
const MIN_TEARDOWN: Duration = Duration::from_secs(1);

pub struct KafkaBus {
    settings: Settings,
    notes: Arc<Notes>,
    /// The consumer loop.
    loops: Crew,
    /// Tasks rdkafka starts inside its clients; they end with the clients.
    internals: Arc<Crew>,
    clients: Mutex<Clients>,
    /// The topics provisioned, deleted at close unless kept.
    topics: Mutex<Vec<String>>,
}

#[derive(Default)]
struct Clients {
    admin: Option<Arc<Admin>>,
    producer: Option<Arc<Producer>>,
    consumer: Option<Arc<Consumer>>,
}

/// Builds the stage's clients and checks that the brokers answer within
/// the connect timeout; on failure nothing of librdkafka is left running.
pub async fn connect(spec: &BusSpec, info: &StageInfo) -> Result<KafkaBus, BusError> {
    let started = Instant::now();
    let settings = Settings::new(spec, info)?;
    let notes = Arc::new(Notes::default());
    let internals = Arc::new(Crew::default());
    let mut clients = Clients::default();
    let mut ready = build(&settings, &notes, &internals, &mut clients);
    if ready.is_ok() {
        ready = reach(&settings, &notes, &clients).await;
    }
    if let Err(e) = ready {
        let deadline = (started + settings.connect_timeout).max(Instant::now() + MIN_TEARDOWN);
        // the connect error is what the user needs; a slow teardown shows
        // in the stage's resource verdict
        let _ = end(clients, &internals, deadline).await;
        return Err(e);
    }
    let bus = KafkaBus {
        settings,
        notes,
        loops: Crew::default(),
        internals,
        clients: Mutex::new(clients),
        topics: Mutex::default(),
    };
    Ok(bus)
}

fn build(
    settings: &Settings,
    notes: &Arc<Notes>,
    internals: &Arc<Crew>,
    clients: &mut Clients,
) -> Result<(), BusError> {
    let config = settings.client(Role::Admin, None);
    let admin = Admin::from_config_and_context(&config, Watch::new(notes))
        .map_err(|e| settings.rejected(Role::Admin, e))?;
    let admin = Arc::new(admin);
    clients.admin = Some(admin.clone());
    let bootstrap = match settings.brokers {
        Brokers::Mock(_) => match admin.inner().mock_cluster() {
            Some(cluster) => Some(cluster.bootstrap_servers()),
            None => {
                return Err(BusError::Failed("librdkafka did not start its mock cluster".into()))
            }
        },
        Brokers::List(_) => None,
    };

    let config = settings.client(Role::Producer, bootstrap.as_deref());
    let producer = Producer::from_config_and_context(&config, Acks::new(notes))
        .map_err(|e| settings.rejected(Role::Producer, e))?;
    clients.producer = Some(Arc::new(producer));

    let config = settings.client(Role::Consumer, bootstrap.as_deref());
    let consumer = CrewRuntime::within(internals, || {
        Consumer::from_config_and_context(&config, Watch::new(notes))
    })
    .map_err(|e| settings.rejected(Role::Consumer, e))?;
    clients.consumer = Some(Arc::new(consumer));
    Ok(())
}

/// Asks the brokers for their metadata: the first request that needs an
/// answer, so an unreachable cluster fails here, within the timeout.
async fn reach(settings: &Settings, notes: &Notes, clients: &Clients) -> Result<(), BusError> {
    let Some(admin) = clients.admin.clone() else {
        return Ok(());
    };
    let wait = settings.connect_timeout.mul_f64(REACH_SHARE);
    let listed =
        off_worker(move || admin.inner().fetch_metadata(None, wait).map(|m| m.brokers().len()))
            .await;
    let reason = match listed {
        Ok(brokers) if brokers > 0 => return Ok(()),
        Ok(_) => "the cluster's metadata lists no broker".to_string(),
        Err(e) => match notes.last_error() {
            Some(last) => format!("no answer within {} ({last})", show_duration(wait)),
            None => format!("no answer within {} ({e})", show_duration(wait)),
        },
    };
    Err(BusError::Unreachable { what: format!("kafka brokers {}", settings.shown), reason })
}

/// Destroys the clients off the runtime's workers, consumer and producer
/// first (the admin client may own the mock cluster they talk to), then
/// waits for rdkafka's tasks and librdkafka's threads to end.
async fn end(clients: Clients, internals: &Crew, deadline: Instant) -> (Vec<String>, Option<u64>) {
    let Clients { admin, producer, consumer } = clients;
    off_worker(move || drop((consumer, producer))).await;
    let stuck = internals.join(left(deadline)).await;
    off_worker(move || drop(admin)).await;
    (stuck, threads_gone(deadline).await.err())
}

fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

impl KafkaBus {
    fn client<T>(&self, pick: impl FnOnce(&Clients) -> Option<T>) -> Result<T, BusError> {
        pick(&self.clients.lock()).ok_or_else(|| BusError::Failed("the kafka bus is closed".into()))
    }

    /// Deletes the stage's topics from a real cluster unless they are kept
    /// (the mock cluster goes with its admin client).
    async fn delete_topics(&self, admin: &Admin, deadline: Instant) -> Result<(), String> {
        if self.settings.keep_topics || matches!(self.settings.brokers, Brokers::Mock(_)) {
            return Ok(());
        }
        let names = self.topics.lock().clone();
        match tokio::time::timeout(left(deadline), topics::delete(admin, &names)).await {
            Ok(deleted) => deleted.map_err(|e| e.to_string()),
            Err(_) => Err(format!("deleting kafka topics took over {:?}", left(deadline))),
        }
    }
}

#[async_trait]
impl Bus for KafkaBus {
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError> {
        let admin = self.client(|c| c.admin.clone())?;
        *self.topics.lock() = topics.iter().map(|t| t.name.clone()).collect();
        topics::create(&admin, &self.settings.brokers, topics).await
    }

    async fn subscribe(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stop: CancellationToken,
    ) -> Result<(), BusError> {
        let consumer = self.client(|c| c.consumer.clone())?;
        let assigned = consumer::assignment(topics).and_then(|list| consumer.assign(&list));
        assigned.map_err(|e| BusError::Failed(format!("assigning kafka partitions: {e}")))?;
        if let Some(first) = topics.first() {
            // the consumer holds a broker connection before anything is sent
            let (handle, name) = (consumer.clone(), first.name.clone());
            let wait = self.settings.connect_timeout;
            off_worker(move || handle.fetch_metadata(Some(&name), wait).map(drop))
                .await
                .map_err(|e| BusError::Failed(format!("the kafka consumer cannot start: {e}")))?;
        }
        let (notes, token) = (self.notes.clone(), self.loops.token());
        self.loops.spawn("kafka-consumer", consume(consumer, recorder, notes, stop, token));
        Ok(())
    }

    async fn publisher(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn Publisher>, BusError> {
        let producer = self.client(|c| c.producer.clone())?;
        producer.context().attach(&recorder);
        let names = topics.iter().map(|t| t.name.clone()).collect();
        Ok(Box::new(KafkaPublisher::new(producer, names)))
    }

    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError> {
        let until = Instant::now() + deadline;
        let mut problems = Vec::new();
        self.loops.cancel();
        let mut stuck = self.loops.join(left(until)).await;

        let mut clients = std::mem::take(&mut *self.clients.lock());
        if let Some(producer) = clients.producer.clone() {
            let wait = left(until) / 2;
            if let Err(e) = off_worker(move || producer.flush(wait)).await {
                problems.push(format!("flushing the kafka producer: {e}"));
            }
        }
        if let Some(admin) = clients.admin.take() {
            // the admin client goes last: consumer and producer first
            let rest = std::mem::take(&mut clients);
            off_worker(move || drop(rest)).await;
            if let Err(e) = self.delete_topics(&admin, until).await {
                problems.push(e);
            }
            clients.admin = Some(admin);
        }

        let (ended, alive) = end(clients, &self.internals, until).await;
        stuck.extend(ended);
        if let Some(alive) = alive {
            problems.push(format!("{alive} librdkafka threads were still running after close"));
        }
        match problems.is_empty() {
            true => Ok(stuck),
            false => Err(BusError::Failed(problems.join("; "))),
        }
    }

    fn events(&self) -> Vec<String> {
        self.notes.events()
    }
}
