//! What a finished stage hands to the reports: counts, latency, rates, its
//! status and why, the resource verdicts and the threshold checks.

use crate::metrics::{Counts, Hist, Summary};
use crate::probe::{Settled, Verdict};

/// Ordered from best to worst, so the worst of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    TimedOut,
    Failed,
    Interrupted,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::TimedOut => "timed_out",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }

    /// A status as summary.csv writes it.
    pub fn parse(text: &str) -> Option<Status> {
        let all = [Status::Ok, Status::TimedOut, Status::Failed, Status::Interrupted];
        all.into_iter().find(|s| s.name() == text)
    }
}

/// One threshold, its limit and what was measured.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub limit: String,
    pub measured: String,
    pub passed: bool,
}

pub struct Outcome {
    pub stage: String,
    pub bus: String,
    pub messages: u64,
    pub counts: Counts,
    pub e2e: Summary,
    pub publish: Summary,
    pub slip: Summary,
    pub hists: Option<(Hist, Hist, Hist)>,
    pub started_ns: u64,
    pub duration_s: f64,
    pub send_rate: f64,
    pub receive_rate: f64,
    /// False for a stage that only published: its received, loss, order
    /// and end-to-end figures were not measured and are written empty.
    pub consumed: bool,
    pub status: Status,
    pub reason: String,
    pub settled: Settled,
    pub checks: Vec<Check>,
    /// The server could not be reached: the run stops with exit 2.
    pub unreachable: bool,
}

impl Outcome {
    pub fn verdict(&self) -> Verdict {
        self.settled.worst()
    }

    pub fn checks_failed(&self) -> bool {
        self.checks.iter().any(|c| !c.passed)
    }

    /// A delivery figure (received, loss, order, end to end), or None for a
    /// stage that only published and so never measured it.
    pub fn measured<T>(&self, figure: T) -> Option<T> {
        self.consumed.then_some(figure)
    }

    /// The rate a stage is shown and compared by: what arrived, or what was
    /// sent for a stage that only published.
    pub fn throughput(&self) -> f64 {
        match self.consumed {
            true => self.receive_rate,
            false => self.send_rate,
        }
    }
}
