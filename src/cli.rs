//! The command line: raw flags parsed by clap, then turned into the
//! scenario overrides and run options the program uses.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::bus::Leak;
use crate::scenario::{BusKind, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "loadrun",
    version,
    about = "A declarative load-test runner for message buses",
    long_about = "Runs the stages of a TOML scenario against a message bus (the embedded \
        memory bus, Kafka or NATS), measuring latency, loss and order, and whether the \
        process settled back to its baseline afterwards.\n\n\
        `loadrun SCENARIO.toml` is the same as `loadrun run SCENARIO.toml`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (the default command)
    Run(RunArgs),
    /// Check a scenario without running it
    Validate {
        scenario: PathBuf,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// Compare two result directories, stage by stage
    Compare(CompareArgs),
    /// Combine the result directories of several runners of one scenario
    Merge(MergeArgs),
    /// Redraw the picture (plot.svg) of a result directory
    Plot {
        /// The result directory
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier result directory (the baseline)
    pub old: PathBuf,
    /// The later result directory
    pub new: PathBuf,
    /// Exit 1 when a latency rose or a throughput fell by more than PCT
    /// percent, or a stage of OLD is missing from NEW
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub max_regression: Option<f64>,
    /// Show these figures but never fail on them (comma-separated or
    /// repeated; e.g. e2e_max_us, a single sample and so the noisiest)
    #[arg(long, value_name = "FIGURE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Print the comparison as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The result directories, one per runner
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The result directory to make (must not exist yet)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file
    pub scenario: PathBuf,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Where result directories are made
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Print a machine-readable summary on stdout
    #[arg(long)]
    pub json: bool,
    /// No progress and no summary table
    #[arg(long, short)]
    pub quiet: bool,
    /// Deliberately leak resources after each stage's close, to prove the
    /// leak verdict (thread, task, fd, heap; comma-separated)
    #[arg(long, value_name = "KINDS", hide = true, value_delimiter = ',', value_parser = parse_leak)]
    pub inject_leak: Vec<Leak>,
    /// Stall the memory bus's consumers for this long, 100 ms into
    /// publishing, to prove latency is not hidden
    #[arg(long, value_name = "DURATION", hide = true, value_parser = parse_stall)]
    pub inject_stall: Option<std::time::Duration>,
}

#[derive(Debug, Args, Clone)]
pub struct OverrideArgs {
    /// Run on this bus instead of the scenario's
    #[arg(long, value_name = "KIND", value_parser = parse_bus)]
    pub bus: Option<BusKind>,
    /// Kafka bootstrap servers ("mock", "mock:N" or "host:port,...")
    #[arg(long, value_name = "LIST")]
    pub brokers: Option<String>,
    /// NATS server URL
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Run only this stage (repeatable)
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
}

impl OverrideArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            bus: self.bus,
            brokers: self.brokers.clone(),
            url: self.url.clone(),
            stages: self.stages.clone(),
        }
    }
}

fn parse_bus(text: &str) -> Result<BusKind, String> {
    BusKind::parse(text).ok_or_else(|| format!("`{text}` is not a bus: use memory, kafka or nats"))
}

fn parse_stall(text: &str) -> Result<std::time::Duration, String> {
    crate::scenario::parse_duration(text)
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!("`{text}` is not a percentage: use a number such as 25")),
    }
}

fn parse_leak(text: &str) -> Result<Leak, String> {
    Leak::parse(text)
        .ok_or_else(|| format!("`{text}` is not a leak kind: thread, task, fd or heap"))
}

const COMMANDS: [&str; 6] = ["run", "validate", "help", "compare", "merge", "plot"];

/// `loadrun FILE` means `loadrun run FILE`: insert the subcommand when the
/// first argument that is not a flag names none.
pub fn with_default_command(args: Vec<OsString>) -> Vec<OsString> {
    let first = args.iter().skip(1).find(|a| !a.to_string_lossy().starts_with('-'));
    let is_flag_only = args.iter().skip(1).all(|a| {
        let a = a.to_string_lossy();
        a == "-h" || a == "--help" || a == "-V" || a == "--version"
    });
    match first {
        Some(word) if COMMANDS.contains(&&*word.to_string_lossy()) => args,
        _ if is_flag_only => args,
        _ => {
            let mut out = vec![args[0].clone(), OsString::from("run")];
            out.extend(args.into_iter().skip(1));
            out
        }
    }
}
