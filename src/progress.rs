//! What a person watching sees on stderr: progress bars on a terminal, one
//! plain line per stage transition anywhere else, so CI logs stay readable.
//! Results never go here; they go to files and stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use crate::probe::Phase;
use crate::stage::Outcome;

pub trait Progress: Send + Sync {
    fn stage_started(&self, stage: &str, bus: &str, messages: u64);
    fn phase(&self, stage: &str, bus: &str, phase: Phase);
    fn stage_finished(&self, outcome: &Outcome);

    /// A callback taking the messages done so far (received, or sent by a
    /// stage that only publishes), for a task to call while the stage
    /// publishes; None when nothing would show it.
    fn ticker(&self) -> Option<Box<dyn Fn(u64) + Send>> {
        None
    }
}

pub fn choose(quiet: bool) -> Box<dyn Progress> {
    if quiet {
        Box::new(Quiet)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars { bar: Mutex::new(None) })
    } else {
        Box::new(Lines)
    }
}

struct Quiet;

impl Progress for Quiet {
    fn stage_started(&self, _: &str, _: &str, _: u64) {}
    fn phase(&self, _: &str, _: &str, _: Phase) {}
    fn stage_finished(&self, _: &Outcome) {}
}

/// The line every mode prints when a stage ends.
fn finished_line(o: &Outcome) -> String {
    let c = &o.counts;
    let head =
        format!("stage {} on {}: {} in {:.2}s", o.stage, o.bus, o.status.name(), o.duration_s);
    let mut line = match o.consumed {
        true => format!(
            "{head}, sent {} received {} lost {}, e2e p99 {:.0}us, {}",
            c.sent,
            c.received,
            c.lost,
            o.e2e.p99_us,
            o.verdict().name()
        ),
        false => format!(
            "{head}, sent {} at {:.0}/s (publish only), publish p99 {:.0}us, {}",
            c.sent,
            o.send_rate,
            o.publish.p99_us,
            o.verdict().name()
        ),
    };
    if !o.reason.is_empty() {
        line.push_str(&format!(" ({})", o.reason));
    }
    line
}

struct Lines;

impl Progress for Lines {
    fn stage_started(&self, stage: &str, bus: &str, messages: u64) {
        eprintln!("stage {stage} on {bus}: starting, {messages} messages");
    }

    fn phase(&self, stage: &str, bus: &str, phase: Phase) {
        if phase != Phase::Record {
            eprintln!("stage {stage} on {bus}: {}", phase.name());
        }
    }

    fn stage_finished(&self, o: &Outcome) {
        eprintln!("{}", finished_line(o));
    }
}

struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn stage_started(&self, stage: &str, bus: &str, messages: u64) {
        let bar = ProgressBar::with_draw_target(Some(messages), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>16} [{bar:30.cyan/blue}] {pos:>9}/{len:9} {per_sec:>12} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{stage} ({bus})"));
        *self.bar.lock() = Some(bar);
    }

    fn phase(&self, _: &str, _: &str, phase: Phase) {
        if let Some(bar) = &*self.bar.lock() {
            bar.set_message(phase.name());
        }
    }

    fn stage_finished(&self, o: &Outcome) {
        if let Some(bar) = self.bar.lock().take() {
            bar.set_position(o.measured(o.counts.received).unwrap_or(o.counts.sent));
            bar.finish_and_clear();
        }
        eprintln!("{}", finished_line(o));
    }

    fn ticker(&self) -> Option<Box<dyn Fn(u64) + Send>> {
        let bar = self.bar.lock().clone()?;
        Some(Box::new(move |done| bar.set_position(done)))
    }
}
