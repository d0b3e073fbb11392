#!/usr/bin/env bash
# `make bench-nats`: publish the same number of same-sized messages to one
# nats-server (core NATS, loopback) with loadrun's release build and with a
# plain nats-py loop, then print both publish rates and their ratio.
# loadrun's stage also subscribes and checks every message; the Python loop
# only publishes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
messages="${BENCH_MESSAGES:-1000000}"
size="${BENCH_SIZE:-256}"
producers="${BENCH_PRODUCERS:-1}"
port="${BENCH_NATS_PORT:-4333}"
loadrun="${LOADRUN:-${CARGO_TARGET_DIR:-$root/target}/release/loadrun}"
python="${PYTHON:-python3}"

"$root/scripts/install-nats.sh"
"$root/scripts/install-python-peers.sh" nats-py
work="$(mktemp -d)"
trap '"$root/scripts/nats-server.sh" down "$port" "$work/server" >/dev/null; rm -rf "$work"' EXIT
"$root/scripts/nats-server.sh" up "$port" "$work/server"

cat >"$work/bench.toml" <<SCENARIO
name = "bench-nats"
description = "publish throughput on core nats, for make bench-nats"

[bus]
kind = "nats"
url = "nats://127.0.0.1:$port"

[[stage]]
name = "publish"
messages = $messages
message_size = $size
topics = 1
keys = 1000
producers = $producers
timeout = "60s"
settle = "5s"

[thresholds]
leaks = "warn"
SCENARIO

echo "loadrun: $messages messages of $size bytes, $producers producer(s)" >&2
status=0
"$loadrun" "$work/bench.toml" --json --quiet --results "$work/results" >"$work/loadrun.json" \
    2>"$work/loadrun.err" || status=$?
if [ ! -s "$work/loadrun.json" ]; then
    echo "bench-nats: loadrun gave no summary (exit $status):" >&2
    cat "$work/loadrun.err" >&2
    exit 1
fi
echo "python (nats-py): $messages messages of $size bytes" >&2
"$python" "$root/bench/nats_peer.py" --url "nats://127.0.0.1:$port" --count "$messages" \
    --size "$size" >"$work/python.json"

"$python" - "$work/loadrun.json" "$work/python.json" "$status" <<'REPORT'
import json, sys
run = json.load(open(sys.argv[1]))["stages"][0]
peer = json.load(open(sys.argv[2]))
ratio = run["send_rate"] / peer["rate"]
print(f"loadrun  publish {run['send_rate']:>12,.0f} msg/s  (received {run['received']:,} "
      f"of {run['sent']:,}, e2e p99 {run['e2e_p99_us']:,.0f} us, status {run['status']}, "
      f"exit {sys.argv[3]})")
print(f"nats-py  publish {peer['rate']:>12,.0f} msg/s  ({peer['seconds']} s)")
print(f"ratio loadrun/python: {ratio:.2f} (goal >= 5)")
REPORT
