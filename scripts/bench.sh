#!/usr/bin/env bash
# `make bench`: runs every benchmark scenario under bench/, compares each
# result with its committed baseline (bench/baseline/<name>/) and exits
# non-zero on a regression; then runs `make bench-kafka` and
# `make bench-nats` where mk/*.mk defines them.
#
# The machines are shared and noisy: a stage's throughput moved by up to
# 30% and its p99 by up to 25% between runs of one build here. So a
# figure must be more than BENCH_MAX_REGRESSION percent worse (default 50)
# and the regression must show in each of BENCH_ATTEMPTS runs (default 3)
# before the bench fails. The maximum (one sample) and the memory bus's
# publish latency (an in-process enqueue of a few microseconds) are shown
# but not gated.
#
# limit: bench/baseline/ was measured on a shared 2-core development
# machine; a CI runner of another speed compares against it until a
# baseline made on that runner is committed (copy a run's summary.csv and
# resources.csv into bench/baseline/<name>/).
set -uo pipefail
cd "$(dirname "$0")/.."

loadrun="${LOADRUN:-${CARGO_TARGET_DIR:-target}/release/loadrun}"
margin="${BENCH_MAX_REGRESSION:-50}"
attempts="${BENCH_ATTEMPTS:-3}"
ignore="${BENCH_IGNORE:-e2e_max_us,publish_p99_us}"
out="results/bench/$(date -u +%Y%m%dT%H%M%SZ)"
status=0
if [ ! -x "$loadrun" ]; then
    echo "bench: $loadrun not found: build it first (make bench does)" >&2
    exit 2
fi

# Runs one scenario up to $attempts times until it compares within the
# margin; returns 0 (passed), 1 (regressed every time) or 2 (broken).
bench_one() {
    local scenario="$1" name baseline attempt root dir rc
    name="$(basename "$scenario" .toml)"
    baseline="bench/baseline/$name"
    for attempt in $(seq 1 "$attempts"); do
        root="$out/$name-$attempt"
        "$loadrun" "$scenario" --results "$root" --quiet
        rc=$?
        dir="$(find "$root" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
        if [ "$rc" -ge 2 ] || [ -z "$dir" ]; then
            echo "bench: $scenario: loadrun exited $rc" >&2
            return 2
        fi
        if [ ! -f "$baseline/summary.csv" ]; then
            echo "bench: $name: no baseline; to make this run the baseline:" >&2
            echo "  mkdir -p $baseline && cp $dir/summary.csv $dir/resources.csv $baseline/" >&2
            return 2
        fi
        echo "bench: $name, run $attempt of $attempts: $dir"
        "$loadrun" compare "$baseline" "$dir" --max-regression "$margin" --ignore "$ignore"
        case $? in
            0) [ "$rc" -eq 0 ] && return 0 ;;
            1) ;;
            *) return 2 ;;
        esac
        echo "bench: $name: worse than the baseline (or the run failed), run $attempt of $attempts" >&2
    done
    return 1
}

for scenario in bench/*.toml; do
    [ -e "$scenario" ] || continue
    bench_one "$scenario"
    rc=$?
    if [ "$rc" -gt "$status" ]; then status=$rc; fi
done

# The in-process figures: the memory bus against a bare tokio channel, the
# wall time of the extreme ladder, leak detection and false alarms over
# repeated runs, and peak memory against the message count.
for bench in memory_bus trust; do
    cargo bench --bench "$bench" || status=$(( status > 1 ? status : 1 ))
done

# Backends add their own benchmark targets in mk/*.mk; run those there are.
for target in bench-kafka bench-nats; do
    if make -n "$target" >/dev/null 2>&1; then
        make "$target" || status=$(( status > 1 ? status : 1 ))
    else
        echo "bench: no make target $target, skipped"
    fi
done

if [ "$status" -eq 0 ]; then
    echo "bench: no regression; results in $out"
else
    echo "bench: FAILED (status $status); results in $out" >&2
fi
exit "$status"
