#!/usr/bin/env bash
# `make bench-nats`: publish the same number of same-sized messages to one
# nats-server (core NATS, loopback) with loadrun's release build and with a
# plain nats-py loop, in alternating rounds, and print the medians and the
# ratio.
#
# Like for like: the Python loop only publishes, so the ratio the goal is
# about uses a loadrun stage that only publishes (`consume = false`). The
# same messages through a full stage (subscribed, every message checked
# for loss and order) are measured and printed too, with their own ratio,
# and so is the barest async-nats loop (examples/nats_peer.rs): the ceiling
# loadrun's client sets on this machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
messages="${BENCH_MESSAGES:-1000000}"
size="${BENCH_SIZE:-256}"
producers="${BENCH_PRODUCERS:-1}"
rounds="${BENCH_ROUNDS:-3}"
port="${BENCH_NATS_PORT:-4333}"
loadrun="${LOADRUN:-${CARGO_TARGET_DIR:-$root/target}/release/loadrun}"
python="${PYTHON:-python3}"
target="${CARGO_TARGET_DIR:-$root/target}"

"$root/scripts/install-nats.sh"
"$root/scripts/install-python-peers.sh" nats-py
(cd "$root" && cargo build --release --quiet --example nats_peer)
work="$(mktemp -d)"
trap '"$root/scripts/nats-server.sh" down "$port" "$work/server" >/dev/null; rm -rf "$work"' EXIT
"$root/scripts/nats-server.sh" up "$port" "$work/server"

cat >"$work/bench.toml" <<SCENARIO
name = "bench-nats"
description = "publish throughput on core nats, for make bench-nats"

[bus]
kind = "nats"
url = "nats://127.0.0.1:$port"

[defaults]
messages = $messages
message_size = $size
topics = 1
keys = 1000
producers = $producers
timeout = "60s"
settle = "5s"

[[stage]]
name = "publish"
consume = false

[[stage]]
name = "roundtrip"

[thresholds]
leaks = "warn"
SCENARIO

# one loadrun stage; its --json summary goes to $work/<stage>-<round>.json
run_loadrun() {
    local stage="$1" round="$2" status=0
    "$loadrun" "$work/bench.toml" --stage "$stage" --json --quiet --results "$work/results" \
        >"$work/$stage-$round.json" 2>"$work/loadrun.err" || status=$?
    if [ ! -s "$work/$stage-$round.json" ]; then
        echo "bench-nats: loadrun gave no summary for stage $stage (exit $status):" >&2
        cat "$work/loadrun.err" >&2
        exit 1
    fi
}

for round in $(seq "$rounds"); do
    echo "round $round of $rounds: $messages messages of $size bytes," \
        "$producers loadrun producer(s)" >&2
    run_loadrun publish "$round"
    "$python" "$root/bench/nats_peer.py" --url "nats://127.0.0.1:$port" --count "$messages" \
        --size "$size" >"$work/python-$round.json"
    "$target/release/examples/nats_peer" --url "nats://127.0.0.1:$port" --count "$messages" \
        --size "$size" >"$work/rust-$round.json"
    run_loadrun roundtrip "$round"
done

"$python" - "$work" "$rounds" <<'REPORT'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def stage(name, r):
    return json.load(open(f"{work}/{name}-{r}.json"))["stages"][0]
publish = [stage("publish", r) for r in range(1, rounds + 1)]
roundtrip = [stage("roundtrip", r) for r in range(1, rounds + 1)]
peer = [json.load(open(f"{work}/python-{r}.json")) for r in range(1, rounds + 1)]
bare = [json.load(open(f"{work}/rust-{r}.json")) for r in range(1, rounds + 1)]
for r in range(rounds):
    p, t = publish[r], roundtrip[r]
    print(f"round {r + 1}: loadrun publish only {p['send_rate']:>11,.0f} msg/s ({p['status']}), "
          f"nats-py {peer[r]['rate']:>9,.0f} msg/s, async-nats {bare[r]['rate']:>11,.0f} msg/s, "
          f"loadrun round trip "
          f"{t['send_rate']:>9,.0f} msg/s ({t['status']}, received {t['received']:,} "
          f"of {t['sent']:,}, e2e p99 {t['e2e_p99_us']:,.0f} us)")
median = lambda xs: statistics.median(xs)
pub = median(p["send_rate"] for p in publish)
py = median(p["rate"] for p in peer)
trip = median(t["send_rate"] for t in roundtrip)
rust = median(b["rate"] for b in bare)
print(f"median of {rounds} rounds:")
print(f"  loadrun, publish only (consume = false) {pub:>12,.0f} msg/s")
print(f"  nats-py, plain publish loop             {py:>12,.0f} msg/s")
print(f"  async-nats, bare publish loop           {rust:>12,.0f} msg/s")
print(f"  loadrun, full stage (publish rate)      {trip:>12,.0f} msg/s")
print(f"ratio loadrun/python, publish only: {pub / py:.2f} (goal >= 5)")
print(f"ratio loadrun/python, full stage:   {trip / py:.2f} (the stage also subscribes and "
      f"checks every message)")
print(f"ratio async-nats/python:            {rust / py:.2f} (the client's own ceiling)")
print(f"ratio loadrun/async-nats, publish only: {pub / rust:.2f}")
failed = [s["status"] for s in publish if s["status"] != "ok"]
if failed:
    print(f"bench-nats: {len(failed)} publish-only stage(s) did not finish ok", file=sys.stderr)
    sys.exit(1)
REPORT
