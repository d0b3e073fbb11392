//! loadrun: a declarative load-test runner for message buses. `main` reads
//! the command line, loads the scenario and hands it to the runner; every
//! error becomes one lowercase line on stderr and a meaningful exit status.

use std::process::ExitCode;

use clap::Parser;

use loadrun::cli::{self, Cli, Command};
use loadrun::runner::{self, RunOptions, EXIT_FAILED, EXIT_USAGE};
use loadrun::{bus, compare, merge, probe, report, scenario};

#[global_allocator]
static HEAP: probe::alloc::Counting = probe::alloc::Counting;

fn main() -> ExitCode {
    init_logging();
    let args = cli::with_default_command(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE as u8 } else { 0 });
        }
    };
    let status = match cli.command {
        Command::Validate { scenario, overrides } => validate(&scenario, &overrides),
        Command::Run(args) => run(args),
        Command::Compare(args) => compare(args),
        Command::Merge(args) => usage_on_error(merge::run(&args.dirs, &args.out)),
        Command::Plot { dir } => usage_on_error(report::plot::redraw(&dir)),
    };
    ExitCode::from(status as u8)
}

fn validate(path: &std::path::Path, overrides: &cli::OverrideArgs) -> i32 {
    match scenario::load(path, &overrides.overrides()) {
        Ok(s) => {
            let buses: Vec<String> = s.buses.iter().map(|b| b.label()).collect();
            println!(
                "{}: ok, scenario '{}' with {} stage(s) on {}",
                path.display(),
                s.name,
                s.stages.len(),
                buses.join(", ")
            );
            0
        }
        Err(e) => {
            eprintln!("loadrun: {e}");
            EXIT_USAGE
        }
    }
}

fn run(args: cli::RunArgs) -> i32 {
    let scenario = match scenario::load(&args.scenario, &args.overrides.overrides()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("loadrun: {e}");
            return EXIT_USAGE;
        }
    };
    let options = RunOptions {
        results: args.results,
        json: args.json,
        quiet: args.quiet,
        faults: bus::Faults { leaks: args.inject_leak, stall: args.inject_stall },
    };
    match runner::run(scenario, options) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("loadrun: {e:#}");
            // nothing ran yet when the results cannot be written
            if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some()) {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }
        }
    }
}

fn compare(args: cli::CompareArgs) -> i32 {
    usage_on_error(compare::run(compare::CompareOptions {
        old: args.old,
        new: args.new,
        max_regression: args.max_regression,
        ignore: args.ignore,
        json: args.json,
    }))
}

/// For the commands that work on finished runs: an error means a directory
/// or file could not be read or written, so nothing was decided.
fn usage_on_error(result: anyhow::Result<i32>) -> i32 {
    result.unwrap_or_else(|e| {
        eprintln!("loadrun: {e:#}");
        EXIT_USAGE
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOADRUN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}
