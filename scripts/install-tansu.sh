#!/usr/bin/env bash
# Installs tansu, the Kafka-protocol broker the Kafka tests run against,
# when it is neither on PATH nor in ~/.cargo/bin. Building it from crates.io
# takes about 12 minutes on two cores, so it is done only when missing.
set -euo pipefail
if command -v tansu >/dev/null 2>&1 || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tansu" ]; then
    exit 0
fi
echo "install-tansu: tansu is missing, building it from crates.io (about 12 minutes)" >&2
cargo install tansu --locked --features dynostore
