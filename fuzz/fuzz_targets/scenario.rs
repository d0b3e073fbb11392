//! Arbitrary bytes through the scenario parser and validator: every input
//! must give a scenario or an error that renders, never a panic.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use loadrun::scenario::{from_bytes, Overrides};

fuzz_target!(|data: &[u8]| {
    let overrides = Overrides::default();
    match from_bytes(Path::new("fuzz.toml"), data, &overrides) {
        Ok(scenario) => assert!(!scenario.stages.is_empty() && !scenario.buses.is_empty()),
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml")),
    }
});
