#!/usr/bin/env bash
# `make fuzz`: feeds arbitrary bytes through the scenario parser and
# validator with cargo-fuzz (libFuzzer) for FUZZ_SECONDS (default 60),
# starting from the shipped scenarios. Installs cargo-fuzz when missing.
# The toolchain here is stable, so RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass
# its -Z flags; any crash is saved under fuzz/artifacts/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-60}}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
corpus=fuzz/corpus/scenario
mkdir -p "$corpus"
cp scenarios/*.toml bench/*.toml "$corpus"/
RUSTC_BOOTSTRAP=1 cargo fuzz run scenario "$corpus" -- \
    -max_total_time="$seconds" -timeout=5 -print_final_stats=1
