//! The NATS bus, through async-nats: core publish/subscribe, or JetStream
//! with a stream per stage. A topic is a subject; the message key travels
//! in the loadrun envelope, and each key has one producer on one
//! connection, so per-key order is whatever the server preserves.
//!
//! Every bus holds two connections, one publishing and one subscribing, so
//! a subscriber the server cuts off as a slow consumer does not take the
//! publishers down with it, and the readiness probe really crosses the
//! server. Everything the bus starts is labelled in its crew; `close`
//! drains both clients and joins the tasks that end only when the clients'
//! own background tasks have ended.

mod consume;
mod events;
mod link;
mod publish;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use async_nats::{Client, Subject};
use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::leaky::Stall;
use super::{Bus, BusError, Publisher, StageInfo, Topic};
use crate::crew::Crew;
use crate::metrics::Recorder;
use crate::scenario::{BusSpec, Storage};
use consume::{Ends, Stops};
use events::EventLog;
use link::Role;
use publish::{Acks, NatsPublisher, Unflushed, ACK_WINDOW};

/// Unacknowledged messages a JetStream consumer may have out at once; kept
/// well under the client's per-subscription buffer (65,536), so JetStream
/// never overflows it.
const MAX_ACK_PENDING: i64 = 8192;
/// How long `close` gives each client to start draining.
const DRAIN_WAIT: Duration = Duration::from_secs(2);
/// How long deleting the stage's stream may take.
const DELETE_WAIT: Duration = Duration::from_secs(5);

struct Links {
    publishing: Client,
    subscribing: Client,
    /// JetStream contexts: publishing, and managing streams and consumers
    /// on the subscribing connection (after that connection's SUBs).
    streams: Option<(jetstream::Context, jetstream::Context)>,
}

pub struct NatsBus {
    shown: String,
    stream: String,
    storage: Storage,
    keep: bool,
    connect_timeout: Duration,
    crew: Crew,
    events: Arc<EventLog>,
    links: Mutex<Option<Links>>,
    stall: Option<Arc<Stall>>,
    ends: Arc<Ends>,
}

impl NatsBus {
    /// `stall` is the hidden `--inject-stall`, applied to core subscribers.
    pub async fn connect(
        spec: &BusSpec,
        info: &StageInfo,
        stall: Option<Duration>,
    ) -> Result<NatsBus, BusError> {
        let bus = NatsBus {
            shown: spec.url.shown(),
            stream: stream_name(&info.run_id, &info.stage),
            storage: spec.storage,
            keep: spec.keep_topics,
            connect_timeout: spec.connect_timeout,
            crew: Crew::default(),
            events: Arc::default(),
            links: Mutex::new(None),
            stall: Stall::new(stall),
            ends: Arc::default(),
        };
        match bus.open(spec).await {
            Ok(links) => {
                tracing::debug!(
                    target: "loadrun::bus",
                    "nats: connected twice to {} (jetstream {}, storage {:?}, stream {})",
                    bus.shown, spec.jetstream, spec.storage, bus.stream
                );
                *bus.links.lock() = Some(links);
                Ok(bus)
            }
            Err(e) => {
                let _ = bus.close(bus.connect_timeout).await;
                Err(e)
            }
        }
    }

    async fn open(&self, spec: &BusSpec) -> Result<Links, BusError> {
        let (url, t) = (spec.url.value.as_str(), spec.connect_timeout);
        let open = |role| link::open(url, &self.shown, role, t, &self.events, &self.crew);
        let publishing = open(Role::Publishing).await?;
        let subscribing = open(Role::Subscribing).await?;
        let streams = spec
            .jetstream
            .then(|| (jetstream::new(publishing.clone()), jetstream::new(subscribing.clone())));
        Ok(Links { publishing, subscribing, streams })
    }

    fn links<T>(&self, f: impl FnOnce(&Links) -> T) -> Result<T, BusError> {
        match &*self.links.lock() {
            Some(links) => Ok(f(links)),
            None => Err(BusError::Failed("the nats bus is closed".into())),
        }
    }

    fn failed(&self, what: &str, e: impl std::fmt::Display) -> BusError {
        match self.events.gone() {
            Some(why) => BusError::Failed(format!("lost the nats server at {}: {why}", self.shown)),
            None => BusError::Failed(format!("{what}: {e}")),
        }
    }

    async fn subscribe_core(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stops: Stops,
    ) -> Result<(), BusError> {
        let (publishing, subscribing) =
            self.links(|l| (l.publishing.clone(), l.subscribing.clone()))?;
        let mut waiting = Vec::new();
        for topic in topics {
            let sub = subscribing
                .subscribe(topic.name.clone())
                .await
                .map_err(|e| self.failed(&format!("subscribing to {}", topic.name), e))?;
            let (ready, seen) = oneshot::channel();
            self.crew.spawn(
                "nats-subscriber",
                consume::core(
                    sub,
                    recorder.clone(),
                    ready,
                    stops.clone(),
                    self.ends.clone(),
                    self.stall.clone(),
                ),
            );
            self.ends.watch(&topic.name);
            waiting.push((topic.name.clone(), seen));
        }
        let within = self.connect_timeout.max(Duration::from_secs(5));
        match tokio::time::timeout(within, consume::await_probes(&publishing, waiting)).await {
            Ok(result) => result,
            Err(_) => Err(self.failed(
                "subscribing",
                format!("the subscriptions were not live within {within:?}"),
            )),
        }
    }

    async fn subscribe_stream(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stops: Stops,
    ) -> Result<(), BusError> {
        let (subscribing, admin) =
            self.links(|l| (l.subscribing.clone(), l.streams.clone().map(|s| s.1)))?;
        let admin = admin.ok_or_else(|| BusError::Failed("jetstream is not set up".into()))?;
        for topic in topics {
            let deliver = subscribing.new_inbox();
            let sub = subscribing
                .subscribe(deliver.clone())
                .await
                .map_err(|e| self.failed(&format!("subscribing to {deliver}"), e))?;
            let config = consumer::push::Config {
                deliver_subject: deliver,
                filter_subject: topic.name.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                deliver_policy: consumer::DeliverPolicy::All,
                max_ack_pending: MAX_ACK_PENDING,
                ..Default::default()
            };
            // created over the subscribing connection, after its SUB, so the
            // server has the interest before the consumer starts pushing
            admin
                .create_consumer_on_stream(config, &self.stream)
                .await
                .map_err(|e| self.failed(&format!("creating a consumer for {}", topic.name), e))?;
            let task =
                consume::jetstream(sub, subscribing.clone(), recorder.clone(), stops.clone());
            self.crew.spawn("nats-consumer", task);
        }
        Ok(())
    }
}

/// The topics' subjects, checked once here: the publishing connection skips
/// the client's check on every message.
fn publish_subjects(topics: &[Topic]) -> Result<Vec<Subject>, BusError> {
    let subject = |t: &Topic| {
        let subject = Subject::from(t.name.as_str());
        match subject.is_valid() {
            true => Ok(subject),
            false => Err(BusError::Failed(format!("'{}' is not a valid nats subject", t.name))),
        }
    };
    topics.iter().map(subject).collect()
}

/// JetStream stream names allow no '.', '*', '>' or path separators.
fn stream_name(run_id: &str, stage: &str) -> String {
    let safe = |c: char| {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        }
    };
    format!("loadrun-{run_id}-{stage}").chars().map(safe).collect()
}

#[async_trait]
impl Bus for NatsBus {
    async fn provision(&self, topics: &[Topic]) -> Result<(), BusError> {
        let Some(admin) = self.links(|l| l.streams.clone().map(|s| s.1))? else {
            // core NATS: a subject exists as soon as someone uses it
            return Ok(());
        };
        let config = stream::Config {
            name: self.stream.clone(),
            subjects: topics.iter().map(|t| t.name.clone()).collect(),
            storage: match self.storage {
                Storage::Memory => stream::StorageType::Memory,
                Storage::File => stream::StorageType::File,
            },
            num_replicas: 1,
            ..Default::default()
        };
        admin
            .create_stream(config)
            .await
            .map_err(|e| self.failed(&format!("creating stream {}", self.stream), e))?;
        Ok(())
    }

    async fn subscribe(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
        stop: CancellationToken,
    ) -> Result<(), BusError> {
        let stops = Stops { stage: stop, bus: self.crew.token() };
        if self.links(|l| l.streams.is_some())? {
            self.subscribe_stream(topics, recorder, stops).await
        } else {
            self.subscribe_core(topics, recorder, stops).await
        }
    }

    async fn publisher(
        &self,
        topics: &[Topic],
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn Publisher>, BusError> {
        let (client, stream) =
            self.links(|l| (l.publishing.clone(), l.streams.clone().map(|s| s.0)))?;
        let subjects = publish_subjects(topics)?;
        if let Some(stall) = &self.stall {
            stall.begin();
        }
        let stop = self.crew.token();
        let acks = match stream {
            Some(js) => {
                let (tx, rx) = mpsc::channel(ACK_WINDOW);
                self.crew.spawn("nats-acks", publish::stream_acks(rx, recorder, stop));
                Acks::Stream(Box::new(js), tx)
            }
            None => {
                let unflushed = Arc::new(Unflushed::default());
                let task = publish::flushes(unflushed.clone(), client.clone(), recorder, stop);
                self.crew.spawn("nats-flushes", task);
                Acks::Core(unflushed)
            }
        };
        Ok(Box::new(NatsPublisher {
            client,
            subjects,
            acks,
            url: self.shown.clone(),
            events: self.events.clone(),
        }))
    }

    async fn close(&self, deadline: Duration) -> Result<Vec<String>, BusError> {
        let until = Instant::now() + deadline;
        self.crew.cancel();
        let links = self.links.lock().take();
        let mut problem = None;
        if let Some(links) = links {
            if let (Some((_, admin)), false) = (&links.streams, self.keep) {
                let wait = DELETE_WAIT.min(until.saturating_duration_since(Instant::now()));
                match tokio::time::timeout(wait, admin.delete_stream(&self.stream)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => problem = Some(format!("deleting stream {}: {e}", self.stream)),
                    Err(_) => {
                        problem =
                            Some(format!("deleting stream {} took over {wait:?}", self.stream))
                    }
                }
            }
            // drain: unsubscribe everything, flush what is queued, close the
            // connection; the clients' tasks then end by themselves
            for client in [&links.publishing, &links.subscribing] {
                let _ = tokio::time::timeout(DRAIN_WAIT, client.drain()).await;
            }
        }
        let stuck = self.crew.join(until.saturating_duration_since(Instant::now())).await;
        match problem {
            Some(p) => Err(BusError::Failed(p)),
            None => Ok(stuck),
        }
    }

    fn events(&self) -> Vec<String> {
        self.events.lines()
    }

    /// Only once every core subscriber has seen an end marker: before that,
    /// messages still in the client's or the server's buffers may arrive.
    /// JetStream redelivers what a slow consumer missed, so it never loses.
    fn losing(&self) -> Option<String> {
        let why = self.events.losing()?;
        if self.links(|l| l.streams.is_some()).unwrap_or(true) {
            return None;
        }
        if let Some(subjects) = self.ends.start() {
            if let Ok(publishing) = self.links(|l| l.publishing.clone()) {
                let stop = self.crew.token();
                let task = consume::mark_ends(publishing, subjects, stop);
                self.crew.spawn("nats-end-marker", task);
            }
        }
        self.ends.all_seen().then_some(why)
    }
}
