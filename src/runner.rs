//! A run: open the result directory, start the probe, run every stage on
//! every bus in order (each one settled before the next begins), record
//! each as it finishes, and turn the outcomes into an exit status.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_util::sync::CancellationToken;

use crate::bus::Faults;
use crate::message::now_ns;
use crate::probe::{tasks, Probe, Sampler};
use crate::progress;
use crate::report::{self, Results};
use crate::scenario::Scenario;
use crate::stage::{self, Outcome, Status};

pub struct RunOptions {
    pub results: PathBuf,
    pub json: bool,
    pub quiet: bool,
    pub faults: Faults,
}

/// Exit statuses, as DESIGN.md fixes them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

const SAMPLE_EVERY: Duration = Duration::from_millis(25);

pub fn run(scenario: Scenario, opts: RunOptions) -> Result<i32> {
    tracing::debug!(?scenario, "resolved scenario");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("loadrun-worker")
        // idle blocking threads go quickly, so they cannot pass for a leak
        .thread_keep_alive(Duration::from_millis(200))
        .on_thread_park(crate::probe::alloc::release_if_asked)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (mut results, timeline) = Results::create(&opts.results, &scenario)?;
    let probe = Arc::new(Probe::new(runtime.handle().clone()));
    probe.set_sink(Box::new(timeline.clone()));
    let sampler =
        Sampler::start(probe.clone(), SAMPLE_EVERY).context("cannot start the sampler")?;
    let progress = progress::choose(opts.quiet);
    let interrupt = CancellationToken::new();
    runtime.block_on(watch_signals(interrupt.clone()));

    let run_hash = run_hash();
    let run_id = format!("{run_hash:08x}");
    let dir = results.dir.clone();
    let cx = stage::Context {
        probe: &probe,
        sampler: &sampler,
        progress: progress.as_ref(),
        run_id: &run_id,
        run_hash,
        faults: &opts.faults,
        interrupt: &interrupt,
        results: &dir,
    };
    let outcomes = runtime.block_on(stages(&cx, &scenario, &mut results, &timeline))?;
    drop(sampler);
    // the picture is a convenience: the CSV files hold the results
    if let Err(e) = report::plot::draw(&results.dir) {
        eprintln!("loadrun: warning: cannot draw plot.svg: {e:#}");
    }

    let exit = exit_status(&outcomes, interrupt.is_cancelled());
    if opts.json {
        println!("{}", report::summary_json(&outcomes, &results.dir, exit));
    } else if !opts.quiet {
        report::print_summary(&outcomes, &results.dir);
        report::print_checks(&outcomes);
        if scenario.buses.len() > 1 {
            report::print_comparison(&outcomes, &scenario);
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(exit)
}

async fn stages(
    cx: &stage::Context<'_>,
    scenario: &Scenario,
    results: &mut Results,
    timeline: &report::Timeline,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for (b, bus) in scenario.buses.iter().enumerate() {
        for (s, spec) in scenario.stages.iter().enumerate() {
            let index = b * scenario.stages.len() + s;
            let mut outcome = stage::run(cx, index, spec, bus).await;
            results.record(&outcome)?;
            timeline.check().context("cannot write timeline.csv")?;
            cx.progress.stage_finished(&outcome);
            outcome.hists = None;
            let stop = outcome.unreachable || cx.interrupt.is_cancelled();
            outcomes.push(outcome);
            if stop {
                return Ok(outcomes);
            }
        }
    }
    Ok(outcomes)
}

fn exit_status(outcomes: &[Outcome], interrupted: bool) -> i32 {
    if interrupted {
        EXIT_INTERRUPTED
    } else if outcomes.iter().any(|o| o.unreachable) {
        EXIT_USAGE
    } else if outcomes.iter().any(|o| o.status != Status::Ok || o.checks_failed()) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// The first SIGINT or SIGTERM cancels the running stage (its rows are
/// still written); a second one exits at once.
async fn watch_signals(interrupt: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        tracing::warn!("cannot watch for signals; Ctrl-C will end the run without records");
        return;
    };
    tasks::spawn_detached("signals", async move {
        for n in 0.. {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if n > 0 {
                eprintln!("loadrun: second signal, exiting now");
                std::process::exit(EXIT_INTERRUPTED);
            }
            eprintln!(
                "loadrun: interrupted, recording the current stage (signal again to exit now)"
            );
            interrupt.cancel();
        }
    });
}

/// A run's id: 32 random-enough bits from the clock and the process id.
/// Messages carry it; topic names carry it in hex.
fn run_hash() -> u64 {
    let seed = now_ns() ^ (std::process::id() as u64).rotate_left(32);
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (seed >> 29);
    mixed as u32 as u64
}
