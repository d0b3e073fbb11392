//! Resource sampling: what the runner process holds (threads, async tasks,
//! descriptors, memory) read from /proc, the runtime and the allocator. All
//! readings go through one `Probe`, which serialises them (listing /proc
//! opens a descriptor that must not show in another reading), tracks the
//! peak and feeds the timeline.

pub mod alloc;
mod proc;
mod sampler;
mod settle;
pub mod tasks;

pub use sampler::Sampler;
pub use settle::{settle, tally, Settled, Verdict};

use std::collections::BTreeMap;
use std::fmt;

use parking_lot::Mutex;
use tokio::runtime::Handle;

use crate::message::now_ns;

/// A resource loadrun watches; the order is the order of report rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Threads,
    Tasks,
    Fds,
    FdSockets,
    FdPipes,
    FdFiles,
    FdOther,
    Rss,
    Heap,
    BusThreads,
}

pub const RESOURCES: [Resource; 10] = [
    Resource::Threads,
    Resource::Tasks,
    Resource::Fds,
    Resource::FdSockets,
    Resource::FdPipes,
    Resource::FdFiles,
    Resource::FdOther,
    Resource::Rss,
    Resource::Heap,
    Resource::BusThreads,
];

const MIB: u64 = 1 << 20;

impl Resource {
    pub fn name(self, gauge: Option<&Gauge>) -> &'static str {
        match self {
            Resource::Threads => "threads",
            Resource::Tasks => "tasks",
            Resource::Fds => "fds",
            Resource::FdSockets => "fds_socket",
            Resource::FdPipes => "fds_pipe",
            Resource::FdFiles => "fds_file",
            Resource::FdOther => "fds_other",
            Resource::Rss => "rss_bytes",
            Resource::Heap => "heap_bytes",
            Resource::BusThreads => gauge.map(|g| g.name).unwrap_or("bus_threads"),
        }
    }

    /// How far above its baseline a reading may settle and still be clean.
    /// Counts must come back exactly; the heap may keep a little (allocator
    /// caches, lazily grown runtime tables); resident memory is noisy,
    /// because freed pages often stay mapped.
    pub fn tolerance(self, baseline: u64) -> u64 {
        match self {
            Resource::Heap => MIB.max(baseline / 50),
            Resource::Rss => (48 * MIB).max(baseline / 4),
            _ => 0,
        }
    }

    /// Its place in `RESOURCES`, which lists the variants in order.
    fn index(self) -> usize {
        self as usize
    }
}

/// An extra resource a bus reports, such as librdkafka's own thread count.
#[derive(Clone, Copy)]
pub struct Gauge {
    pub name: &'static str,
    pub read: fn() -> u64,
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// One reading of every resource.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    pub at_ns: u64,
    pub values: [u64; RESOURCES.len()],
}

impl Reading {
    pub fn get(&self, r: Resource) -> u64 {
        self.values[r.index()]
    }
}

/// What a reading was made of, for naming what was left behind.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub threads: Vec<String>,
    pub fds: Vec<String>,
    pub tasks: BTreeMap<&'static str, u64>,
}

/// The stage lifecycle phases, as the timeline names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Baseline,
    Connect,
    Provision,
    Subscribe,
    Publish,
    Drain,
    Cancel,
    Close,
    Settle,
    Record,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Connect => "connect",
            Phase::Provision => "provision",
            Phase::Subscribe => "subscribe",
            Phase::Publish => "publish",
            Phase::Drain => "drain",
            Phase::Cancel => "cancel",
            Phase::Close => "close",
            Phase::Settle => "settle",
            Phase::Record => "record",
        }
    }
}

/// Where timeline samples go (the report's timeline.csv writer).
pub trait TimelineSink: Send {
    fn sample(&mut self, stage: &str, bus: &str, phase: Phase, reading: &Reading, gauge: &str);
}

struct State {
    stage: String,
    bus: String,
    phase: Phase,
    gauge: Option<Gauge>,
    peak: Reading,
    sink: Option<Box<dyn TimelineSink>>,
}

pub struct Probe {
    runtime: Handle,
    state: Mutex<State>,
}

impl Probe {
    pub fn new(runtime: Handle) -> Probe {
        let state = State {
            stage: String::new(),
            bus: String::new(),
            phase: Phase::Baseline,
            gauge: None,
            peak: Reading::default(),
            sink: None,
        };
        Probe { runtime, state: Mutex::new(state) }
    }

    pub fn set_sink(&self, sink: Box<dyn TimelineSink>) {
        self.state.lock().sink = Some(sink);
    }

    /// Starts a stage: names it for the timeline and clears the peak.
    pub fn begin(&self, stage: &str, bus: &str, gauge: Option<Gauge>) {
        let mut s = self.state.lock();
        s.stage = stage.to_string();
        s.bus = bus.to_string();
        s.gauge = gauge;
        s.phase = Phase::Baseline;
        s.peak = Reading::default();
    }

    pub fn phase(&self, phase: Phase) {
        self.state.lock().phase = phase;
    }

    pub fn gauge(&self) -> Option<Gauge> {
        self.state.lock().gauge
    }

    pub fn peak(&self) -> Reading {
        self.state.lock().peak
    }

    /// Reads every resource, records it in the timeline and the peak.
    pub fn sample(&self) -> Reading {
        self.read(false).0
    }

    /// A reading with the names behind it.
    pub fn detail(&self) -> (Reading, Detail) {
        self.read(true)
    }

    fn read(&self, named: bool) -> (Reading, Detail) {
        let mut s = self.state.lock();
        let fds = proc::fd_targets();
        let threads = if named { proc::thread_names() } else { Vec::new() };
        let mut values = [0u64; RESOURCES.len()];
        for target in &fds {
            values[proc::kind(target).index()] += 1;
        }
        values[Resource::Threads.index()] =
            if named { threads.len() as u64 } else { proc::thread_count() };
        values[Resource::Tasks.index()] = self.runtime.metrics().num_alive_tasks() as u64;
        values[Resource::Fds.index()] = fds.len() as u64;
        values[Resource::Rss.index()] = proc::rss_bytes();
        values[Resource::Heap.index()] = alloc::heap_in_use();
        values[Resource::BusThreads.index()] = s.gauge.map(|g| (g.read)()).unwrap_or(0);
        let reading = Reading { at_ns: now_ns(), values };

        for (peak, value) in s.peak.values.iter_mut().zip(values) {
            *peak = (*peak).max(value);
        }
        let State { stage, bus, phase, gauge, sink, .. } = &mut *s;
        if let Some(sink) = sink {
            let gauge = gauge.map(|g| g.name).unwrap_or("");
            sink.sample(stage, bus, *phase, &reading, gauge);
        }
        let detail =
            if named { Detail { threads, fds, tasks: tasks::live() } } else { Detail::default() };
        (reading, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_listed_in_declaration_order() {
        for (i, r) in RESOURCES.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
    }
}
