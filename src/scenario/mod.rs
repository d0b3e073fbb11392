//! Scenarios: the TOML file a user writes, parsed into raw spanned values,
//! then validated into the resolved types the runner uses. Every bad value
//! is reported with its file, line, key and value.

mod duration;
mod error;
mod raw;
mod resolved;
mod validate;

pub use duration::{parse as parse_duration, show as show_duration};
pub use error::ScenarioError;
pub use resolved::*;

use std::path::Path;

/// What the command line may change in a scenario, so one file serves many
/// targets.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bus: Option<BusKind>,
    pub brokers: Option<String>,
    pub url: Option<String>,
    pub stages: Vec<String>,
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let fail = |message: String| whole_file(path, message);
    if path.is_dir() {
        return Err(fail("is a directory, not a scenario file".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
    from_bytes(path, &bytes, overrides)
}

/// Parses and validates a scenario's bytes; `path` only names it in errors.
/// Any input gives a scenario or an error, never a panic (the fuzz target
/// holds it to that).
pub fn from_bytes(
    path: &Path,
    bytes: &[u8],
    overrides: &Overrides,
) -> Result<Scenario, ScenarioError> {
    let fail = |message: String| whole_file(path, message);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| fail(format!("is not UTF-8 text (bad byte at offset {})", e.valid_up_to())))?;
    if text.trim().is_empty() {
        return Err(fail("is empty: a scenario needs at least one [[stage]]".into()));
    }
    let source = error::Source { file: path, text };
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| source.parse_error(&e))?;
    let mut scenario = validate::resolve(&source, raw)?;
    validate::apply(&source, &mut scenario, overrides)?;
    Ok(scenario)
}

/// An error about the file as a whole, with no line to point at.
fn whole_file(path: &Path, message: String) -> ScenarioError {
    ScenarioError { file: path.to_path_buf(), line: None, message }
}
