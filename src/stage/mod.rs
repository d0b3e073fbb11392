//! The stage lifecycle of DESIGN.md, in order: baseline, connect, provision,
//! subscribe, publish, drain, cancel and join, close, settle. Every task a
//! stage starts belongs to its crew and is joined before the bus closes;
//! every wait has a deadline; a timeout is an outcome, never a hang.

mod checks;
mod intervals;
mod outcome;
mod publish;

pub use outcome::{Outcome, Status};

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::bus::{self, Bus, BusError, Faults, StageInfo, Topic};
use crate::crew::Crew;
use crate::message::now_ns;
use crate::metrics::{summarize, Recorder};
use crate::probe::{settle, Phase, Probe, Reading, Sampler};
use crate::progress::Progress;
use crate::scenario::{BusSpec, StageSpec};
use publish::{produce, Share, Stopped};

/// How long cancelled tasks get to exit, and a bus to close.
const JOIN_DEADLINE: Duration = Duration::from_secs(5);
const CLOSE_DEADLINE: Duration = Duration::from_secs(15);

/// What every stage of a run shares.
pub struct Context<'a> {
    pub probe: &'a Probe,
    pub sampler: &'a Sampler,
    pub progress: &'a dyn Progress,
    pub run_id: &'a str,
    pub run_hash: u64,
    pub faults: &'a Faults,
    pub interrupt: &'a CancellationToken,
    /// The run's result directory, for the stage's interval log.
    pub results: &'a std::path::Path,
}

/// The state of a stage while it runs.
struct Work {
    status: Status,
    reason: String,
    unreachable: bool,
    start_ns: u64,
    publish_end_ns: u64,
    end_ns: u64,
}

impl Work {
    fn fail(&mut self, status: Status, reason: impl Into<String>) {
        if self.status == Status::Ok {
            self.status = status;
            self.reason = reason.into();
        }
    }
}

pub async fn run(cx: &Context<'_>, index: usize, spec: &StageSpec, bus_spec: &BusSpec) -> Outcome {
    let label = bus_spec.label();
    let recorder =
        Arc::new(Recorder::new(cx.run_hash, index as u16, spec.topics, spec.keys, spec.producers));
    cx.probe.begin(&spec.name, &label, bus::gauge(bus_spec.kind));
    let baseline = cx.probe.detail();
    cx.sampler.active(true);
    cx.progress.stage_started(&spec.name, &label, spec.messages);

    let crew = Crew::new(cx.interrupt.child_token());
    let mut work = Work {
        status: Status::Ok,
        reason: String::new(),
        unreachable: false,
        start_ns: now_ns(),
        publish_end_ns: 0,
        end_ns: 0,
    };
    phase(cx, spec, &label, Phase::Connect);
    let info = StageInfo { run_id: cx.run_id.to_string(), stage: spec.name.clone() };
    let connected = tokio::select! {
        r = bus::connect(bus_spec, &info, cx.faults) => r,
        _ = cx.interrupt.cancelled() => Err(BusError::Cancelled),
    };
    let bus = match connected {
        Ok(bus) => Some(bus),
        Err(e) => {
            note_error(cx, &mut work, &e);
            None
        }
    };
    if let Some(bus) = &bus {
        exercise(cx, spec, &label, bus.as_ref(), &recorder, &crew, &mut work).await;
    }
    work.end_ns = now_ns();

    phase(cx, spec, &label, Phase::Cancel);
    crew.cancel();
    let stuck = crew.join(JOIN_DEADLINE).await;
    if !stuck.is_empty() {
        work.fail(
            Status::Failed,
            format!("tasks did not exit when cancelled: {}", stuck.join(", ")),
        );
    }

    phase(cx, spec, &label, Phase::Close);
    if let Some(bus) = bus {
        close(&*bus, &mut work).await;
        drop(bus);
    }
    cx.sampler.active(false);

    // the reading that opens the settle is the one after close
    let after_close = phase(cx, spec, &label, Phase::Settle);
    let settled = settle(cx.probe, &baseline, after_close, spec.settle).await;
    phase(cx, spec, &label, Phase::Record);
    finish(spec, label, &recorder, work, settled)
}

/// Moves to the next phase; the probe takes a reading at every transition,
/// so even a stage shorter than the sampling interval has a timeline.
fn phase(cx: &Context<'_>, spec: &StageSpec, bus: &str, phase: Phase) -> Reading {
    cx.probe.phase(phase);
    let reading = cx.probe.sample();
    tracing::info!(stage = %spec.name, bus, phase = phase.name(), "stage transition");
    cx.progress.phase(&spec.name, bus, phase);
    reading
}

fn note_error(cx: &Context<'_>, work: &mut Work, e: &BusError) {
    match e {
        BusError::Cancelled if cx.interrupt.is_cancelled() => {
            work.fail(Status::Interrupted, "interrupted")
        }
        BusError::Timeout { .. } => work.fail(Status::TimedOut, e.to_string()),
        BusError::Unreachable { .. } => {
            work.unreachable = true;
            work.fail(Status::Failed, e.to_string());
        }
        _ => work.fail(Status::Failed, e.to_string()),
    }
}

/// Runs `fut` until the stage deadline or an interrupt.
async fn bounded<T>(
    cx: &Context<'_>,
    what: &str,
    deadline: Instant,
    fut: impl std::future::Future<Output = Result<T, BusError>>,
) -> Result<T, BusError> {
    let after = deadline.saturating_duration_since(Instant::now());
    tokio::select! {
        r = tokio::time::timeout(after, fut) => match r {
            Ok(r) => r,
            Err(_) => Err(BusError::Timeout { what: what.into(), after }),
        },
        _ = cx.interrupt.cancelled() => Err(BusError::Cancelled),
    }
}

async fn exercise(
    cx: &Context<'_>,
    spec: &StageSpec,
    label: &str,
    bus: &dyn Bus,
    recorder: &Arc<Recorder>,
    crew: &Crew,
    work: &mut Work,
) {
    let deadline = Instant::now() + spec.timeout;
    phase(cx, spec, label, Phase::Provision);
    let topics: Vec<Topic> = (0..spec.topics)
        .map(|t| Topic {
            name: format!("loadrun-{}-{}-{t}", cx.run_id, spec.name),
            partitions: spec.partitions,
        })
        .collect();
    if let Err(e) = bounded(cx, "creating topics", deadline, bus.provision(&topics)).await {
        return note_error(cx, work, &e);
    }

    if spec.consume {
        phase(cx, spec, label, Phase::Subscribe);
        let subscribed = bus.subscribe(&topics, recorder.clone(), crew.token());
        if let Err(e) = bounded(cx, "subscribing", deadline, subscribed).await {
            return note_error(cx, work, &e);
        }
    }

    phase(cx, spec, label, Phase::Publish);
    work.start_ns = now_ns();
    let producers = (spec.producers as u64).min(spec.topics as u64 * spec.keys as u64);
    let (done_tx, mut done_rx) = mpsc::channel(producers as usize);
    for producer in 0..producers {
        let publisher = match bounded(
            cx,
            "connecting a producer",
            deadline,
            bus.publisher(&topics, recorder.clone()),
        )
        .await
        {
            Ok(p) => p,
            Err(e) => return note_error(cx, work, &e),
        };
        let share = Share {
            producer,
            producers,
            messages: spec.messages,
            warmup: spec.warmup,
            topics: spec.topics,
            keys: spec.keys,
            message_size: spec.message_size,
            rate: spec.rate,
        };
        let (recorder, stop, done) = (recorder.clone(), crew.token(), done_tx.clone());
        let start = work.start_ns;
        let flush = spec.timeout;
        crew.spawn("producer", async move {
            let stopped = produce(share, publisher, recorder, start, stop, flush).await;
            let _ = done.send(stopped).await;
        });
    }
    drop(done_tx);
    let log = cx.results.join(crate::report::hlog::file_name(&spec.name, label));
    let title = format!("stage {} on {label}", spec.name);
    let (rec, stop, start) = (recorder.clone(), crew.token(), work.start_ns);
    crew.spawn("interval-log", intervals::write(log, title, rec, start, stop));
    if let Some(progress) = cx.progress.ticker() {
        let (recorder, stop, consume) = (recorder.clone(), crew.token(), spec.consume);
        crew.spawn("progress", async move {
            while !stop.is_cancelled() {
                // a stage that only publishes shows what it has sent
                progress(match consume {
                    true => recorder.received_so_far(),
                    false => recorder.sent_so_far(),
                });
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.cancelled() => {}
                }
            }
        });
    }

    let mut running = producers;
    while running > 0 {
        tokio::select! {
            done = done_rx.recv() => match done {
                Some(Stopped::Done) => running -= 1,
                Some(Stopped::Failed(reason)) => {
                    running -= 1;
                    work.fail(Status::Failed, format!("a producer gave up: {reason}"));
                }
                Some(Stopped::Cancelled) | None => {
                    // producers only stop early when the stage is cancelled
                    if cx.interrupt.is_cancelled() {
                        return work.fail(Status::Interrupted, "interrupted");
                    }
                    running = 0;
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => {
                let (sent, total) = (recorder.sent_so_far(), spec.messages);
                let reason = format!("publishing did not finish within {:?} ({sent} of {total} sent)", spec.timeout);
                return work.fail(Status::TimedOut, reason);
            }
            _ = cx.interrupt.cancelled() => return work.fail(Status::Interrupted, "interrupted"),
        }
    }
    work.publish_end_ns = now_ns();
    if spec.consume {
        phase(cx, spec, label, Phase::Drain);
        drain(cx, spec, bus, recorder, deadline, work).await;
    }
}

/// Waits until every message sent has arrived, the bus is sure the rest
/// are gone, the stage deadline passes or the run is interrupted.
async fn drain(
    cx: &Context<'_>,
    spec: &StageSpec,
    bus: &dyn Bus,
    recorder: &Recorder,
    deadline: Instant,
    work: &mut Work,
) {
    loop {
        let received = recorder.received_so_far();
        if received >= recorder.sent_so_far() {
            break;
        }
        if let Some(why) = bus.losing() {
            // the bus is sure the rest are gone; count what did arrive
            let received = recorder.received_so_far();
            let sent = recorder.sent_so_far();
            let reason = format!("{received} of {sent} messages arrived: {why}");
            return work.fail(Status::Failed, reason);
        }
        if Instant::now() >= deadline {
            let (rx, tx) = (recorder.received_so_far(), recorder.sent_so_far());
            let reason = format!("{rx} of {tx} messages arrived within {:?}", spec.timeout);
            return work.fail(Status::TimedOut, reason);
        }
        if cx.interrupt.is_cancelled() {
            return work.fail(Status::Interrupted, "interrupted");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn close(bus: &dyn Bus, work: &mut Work) {
    // the bus plans its close within CLOSE_DEADLINE; the outer bound, a
    // little longer, only catches a bus that overruns its own plan
    let bound = CLOSE_DEADLINE + JOIN_DEADLINE;
    match tokio::time::timeout(bound, bus.close(CLOSE_DEADLINE)).await {
        Ok(Ok(stuck)) if stuck.is_empty() => {}
        Ok(Ok(stuck)) => work
            .fail(Status::Failed, format!("bus tasks did not exit on close: {}", stuck.join(", "))),
        Ok(Err(e)) => work.fail(Status::Failed, format!("closing the bus: {e}")),
        Err(_) => work.fail(Status::Failed, format!("closing the bus took over {bound:?}")),
    }
    for event in bus.events() {
        tracing::warn!(target: "loadrun::bus", "{event}");
    }
}

fn finish(
    spec: &StageSpec,
    bus: String,
    recorder: &Recorder,
    mut work: Work,
    settled: crate::probe::Settled,
) -> Outcome {
    let counts = recorder.counts();
    let lat = recorder.latencies();
    let end = work.end_ns.max(work.start_ns + 1);
    let duration_s = (end - work.start_ns) as f64 / 1e9;
    let publish_end = if work.publish_end_ns > 0 { work.publish_end_ns } else { end };
    let publish_s = (publish_end.max(work.start_ns + 1) - work.start_ns) as f64 / 1e9;
    let counted = |n: u64| n.saturating_sub(spec.warmup) as f64;
    let receive_s = match lat.last_rx_ns {
        0 => duration_s,
        last => (last.max(work.start_ns + 1) - work.start_ns) as f64 / 1e9,
    };
    if work.status == Status::Ok && counts.errors > 0 {
        work.reason = counts.first_error.clone().unwrap_or_default();
    }
    let mut outcome = Outcome {
        stage: spec.name.clone(),
        bus,
        messages: spec.messages,
        e2e: summarize(&lat.e2e),
        publish: summarize(&lat.publish),
        slip: summarize(&lat.slip),
        send_rate: counted(counts.sent) / publish_s,
        receive_rate: counted(counts.received) / receive_s,
        consumed: spec.consume,
        counts,
        hists: Some((lat.e2e, lat.publish, lat.slip)),
        started_ns: work.start_ns,
        duration_s,
        status: work.status,
        reason: work.reason,
        settled,
        checks: Vec::new(),
        unreachable: work.unreachable,
    };
    outcome.checks = checks::evaluate(&spec.thresholds, &outcome);
    outcome
}
