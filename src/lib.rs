//! loadrun as a library: the scenario parser and validator, the buses, the
//! stage lifecycle, the probe and the reports. The `loadrun` binary is a
//! thin command line over it; the library exists so the fuzz target and
//! benchmarks can drive the same code.

pub mod bus;
pub mod cli;
pub mod compare;
pub mod crew;
pub mod merge;
pub mod message;
pub mod metrics;
pub mod probe;
pub mod progress;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod stage;
