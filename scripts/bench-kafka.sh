#!/usr/bin/env bash
# `make bench-kafka`: loadrun (release build) and a plain confluent-kafka
# loop move the same messages through the same tansu broker; prints both
# throughputs and their ratio. Knobs: MESSAGES, SIZE, PARTITIONS, KEYS,
# LINGER_MS, FETCH_WAIT_MS, ROUNDS (defaults 100000, 256, 3, 1000, 5, 10, 3).
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${MESSAGES:-100000}"
size="${SIZE:-256}"
partitions="${PARTITIONS:-3}"
keys="${KEYS:-1000}"
linger="${LINGER_MS:-5}"
fetch_wait="${FETCH_WAIT_MS:-10}"
rounds="${ROUNDS:-3}"
loadrun="${LOADRUN:-${CARGO_TARGET_DIR:-target}/release/loadrun}"

work="$(mktemp -d)"
export TANSU_DIR="$work/tansu"
trap 'scripts/tansu.sh down; rm -rf "$work"' EXIT
bootstrap="$(scripts/tansu.sh up)"
echo "bench-kafka: tansu at $bootstrap; $messages messages of $size bytes, $partitions partitions, $keys keys, linger.ms $linger, fetch.wait.max.ms $fetch_wait"

cat >"$work/bench.toml" <<TOML
name = "bench-kafka"
description = "loadrun's side of make bench-kafka"

[bus]
kind = "kafka"
brokers = "$bootstrap"

[bus.config]
"linger.ms" = "$linger"
"fetch.wait.max.ms" = "$fetch_wait"

[defaults]
topics = 1
partitions = $partitions
keys = $keys
message_size = $size
producers = 2
timeout = "5m"

[[stage]]
name = "bench"
messages = $messages
TOML

# the broker's speed drifts from run to run: alternate the two clients
# and compare the medians
ours=()
theirs=()
for round in $(seq "$rounds"); do
    # exit 1 (a leak verdict or threshold) does not void the throughput;
    # the stage's own status and counts are checked below
    "$loadrun" "$work/bench.toml" --results "$work/results-$round" --quiet ||
        echo "bench-kafka: loadrun exited with status $? in round $round" >&2
    ours+=("$(python3 - "$work"/results-"$round"/*/summary.csv <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
if row["status"] != "ok" or row["received"] != row["messages"]:
    sys.exit(f"bench-kafka: loadrun's stage was {row['status']}, {row['received']} of {row['messages']} received")
print(row["receive_rate"])
PY
)")
    peer="$(python3 bench/kafka_peer.py --bootstrap "$bootstrap" --messages "$messages" \
        --size "$size" --partitions "$partitions" --keys "$keys" --linger-ms "$linger" \
        --fetch-wait-ms "$fetch_wait")"
    theirs+=("$(echo "$peer" | sed -n 's/^rate //p')")
    printf 'round %s: loadrun %.0f msg/s, python %.0f msg/s\n' "$round" "${ours[-1]}" "${theirs[-1]}"
done
python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
ours = statistics.median(float(x) for x in sys.argv[1].split())
theirs = statistics.median(float(x) for x in sys.argv[2].split())
print(f"loadrun: {ours:.0f} msg/s (median)")
print(f"python:  {theirs:.0f} msg/s (median)")
print(f"ratio loadrun/python: {ours / theirs:.2f} (goal >= 1.3)")
PY
