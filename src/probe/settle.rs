//! The settle: after a stage has closed its bus, read the resources with
//! backoff until each is back at its baseline or has stopped moving, or the
//! deadline passes. Measured, never slept: a clean stage settles in
//! milliseconds, and a slow one is waited for only as long as it moves.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Detail, Gauge, Probe, Reading, Resource, RESOURCES};

/// Ordered from best to worst, so the worst of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Clean,
    Unsettled,
    Leaked,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Unsettled => "unsettled",
            Verdict::Leaked => "leaked",
        }
    }

    /// A verdict as result files write it.
    pub fn parse(text: &str) -> Option<Verdict> {
        [Verdict::Clean, Verdict::Unsettled, Verdict::Leaked].into_iter().find(|v| v.name() == text)
    }
}

#[derive(Debug, Clone)]
pub struct VerdictRow {
    pub resource: &'static str,
    pub baseline: u64,
    pub peak: u64,
    pub after_close: u64,
    pub after_settle: u64,
    /// How far above the baseline still counts as clean.
    pub tolerance: u64,
    pub verdict: Verdict,
    pub left_behind: String,
}

impl VerdictRow {
    pub fn delta(&self) -> i64 {
        self.after_settle as i64 - self.baseline as i64
    }
}

#[derive(Debug, Clone)]
pub struct Settled {
    pub settle_ms: u64,
    pub rows: Vec<VerdictRow>,
}

impl Settled {
    pub fn worst(&self) -> Verdict {
        self.rows.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Clean)
    }
}

/// How long a raised reading must hold still before it counts as left
/// behind rather than still winding down.
fn quiet_for(deadline: Duration) -> Duration {
    (deadline / 2).min(Duration::from_secs(1))
}

pub async fn settle(
    probe: &Probe,
    baseline: &(Reading, Detail),
    after_close: Reading,
    deadline: Duration,
) -> Settled {
    let started = Instant::now();
    wake_workers_to_release().await;
    let quiet = quiet_for(deadline);
    let gauge = probe.gauge();
    let watched: Vec<Resource> = RESOURCES
        .iter()
        .copied()
        .filter(|r| *r != Resource::BusThreads || gauge.is_some())
        .collect();
    let base = &baseline.0;
    let clean =
        |r: Resource, reading: &Reading| reading.get(r) <= base.get(r) + r.tolerance(base.get(r));

    // when each resource last moved by more than its tolerance
    let mut moved = vec![started; watched.len()];
    let mut last = after_close;
    let mut delay = Duration::from_millis(2);
    let (final_reading, detail) = loop {
        let (now, detail) = probe.detail();
        let at = Instant::now();
        for (i, r) in watched.iter().enumerate() {
            let (a, b) = (last.get(*r), now.get(*r));
            if a.abs_diff(b) > r.tolerance(base.get(*r)) {
                moved[i] = at;
            }
        }
        last = now;
        let all_clean = watched.iter().all(|r| clean(*r, &now));
        let all_still = watched
            .iter()
            .enumerate()
            .all(|(i, r)| clean(*r, &now) || at.duration_since(moved[i]) >= quiet);
        let elapsed = started.elapsed();
        if all_clean || all_still || elapsed >= deadline {
            break (now, detail);
        }
        tokio::time::sleep(delay.min(deadline - elapsed)).await;
        delay = (delay * 2).min(Duration::from_millis(100));
    };

    let at = Instant::now();
    let peak = probe.peak();
    let rows = watched
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let verdict = if clean(*r, &final_reading) {
                Verdict::Clean
            } else if at.duration_since(moved[i]) >= quiet {
                Verdict::Leaked
            } else {
                Verdict::Unsettled
            };
            let left_behind = match verdict {
                Verdict::Clean => String::new(),
                _ => left_behind(*r, base, &baseline.1, &final_reading, &detail, gauge),
            };
            VerdictRow {
                resource: r.name(gauge.as_ref()),
                baseline: base.get(*r),
                peak: peak.get(*r).max(after_close.get(*r)),
                after_close: after_close.get(*r),
                after_settle: final_reading.get(*r),
                tolerance: r.tolerance(base.get(*r)),
                verdict,
                left_behind,
            }
        })
        .collect();
    Settled { settle_ms: started.elapsed().as_millis() as u64, rows }
}

/// Asks every thread to return its free memory, and gives the runtime's
/// workers a moment to wake and go idle again, which is when they do it.
async fn wake_workers_to_release() {
    super::alloc::release();
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let wakers: Vec<_> = (0..workers).map(|_| tokio::spawn(async {})).collect();
    for waker in wakers {
        let _ = waker.await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
}

/// Names what a resource still holds over its baseline.
fn left_behind(
    r: Resource,
    base: &Reading,
    before: &Detail,
    now: &Reading,
    after: &Detail,
    gauge: Option<Gauge>,
) -> String {
    let extra = now.get(r).saturating_sub(base.get(r));
    match r {
        Resource::Threads => named_difference(&before.threads, &after.threads),
        Resource::Tasks => {
            let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
            for (label, n) in &after.tasks {
                *counts.entry(label).or_default() += *n as i64;
            }
            for (label, n) in &before.tasks {
                *counts.entry(label).or_default() -= *n as i64;
            }
            let labelled = counts.values().filter(|n| **n > 0).sum::<i64>() as u64;
            let mut out = tally(counts);
            if extra > labelled {
                out.push(format!("{} unlabelled", extra - labelled));
            }
            out.join("; ")
        }
        Resource::Fds => named_difference(&before.fds, &after.fds),
        Resource::FdSockets | Resource::FdPipes | Resource::FdFiles | Resource::FdOther => {
            filtered(before, after, |t| super::proc::kind(t) == r)
        }
        Resource::Rss => format!("{} more resident", bytes(extra)),
        Resource::Heap => format!("{} still allocated", bytes(extra)),
        Resource::BusThreads => {
            format!("{} {} over baseline", extra, gauge.map(|g| g.name).unwrap_or("threads"))
        }
    }
}

fn filtered(before: &Detail, after: &Detail, keep: impl Fn(&str) -> bool) -> String {
    let pick = |v: &[String]| v.iter().filter(|t| keep(t)).cloned().collect::<Vec<_>>();
    named_difference(&pick(&before.fds), &pick(&after.fds))
}

/// The names in `after` that `before` did not have, counted.
fn named_difference(before: &[String], after: &[String]) -> String {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for name in after {
        *counts.entry(name).or_default() += 1;
    }
    for name in before {
        *counts.entry(name).or_default() -= 1;
    }
    tally(counts).join("; ")
}

/// Names with their counts, the way verdicts show them: `name` once,
/// `name xN` more often; names counted zero or less are left out.
pub fn tally(counts: BTreeMap<&str, i64>) -> Vec<String> {
    counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| if n == 1 { name.to_string() } else { format!("{name} x{n}") })
        .collect()
}

fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_what_was_added() {
        let before = vec!["a".to_string(), "b".to_string()];
        let after = vec!["a".into(), "b".into(), "leak".into(), "leak".into()];
        assert_eq!(named_difference(&before, &after), "leak x2");
        assert_eq!(named_difference(&after, &before), "");
    }
}
