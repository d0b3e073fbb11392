#!/usr/bin/env bash
# Starts or stops one tansu broker on a free loopback port, in-memory
# storage, for trying loadrun against a real Kafka-protocol broker:
#   scripts/tansu.sh up     starts it and prints the bootstrap address
#   scripts/tansu.sh down   stops it
# State (pid, address, log) lives in $TANSU_DIR, a temp dir by default.
set -euo pipefail
dir="${TANSU_DIR:-${TMPDIR:-/tmp}/loadrun-tansu-$(id -u)}"
tansu="$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")"

running() {
    [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

up() {
    if running; then
        cat "$dir/bootstrap"
        return
    fi
    if [ ! -x "$tansu" ]; then
        echo "tansu: not installed; run scripts/install-tansu.sh" >&2
        exit 1
    fi
    mkdir -p "$dir"
    local port
    port="${TANSU_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    local url="tcp://127.0.0.1:$port"
    "$tansu" broker --listener-url "$url" --advertised-listener-url "$url" \
        --storage-engine memory://tansu/ >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "127.0.0.1:$port" >"$dir/bootstrap"
            echo "127.0.0.1:$port"
            return
        fi
        if ! running; then
            echo "tansu: exited at start, see $dir/log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "tansu: not listening on 127.0.0.1:$port after 10s, see $dir/log" >&2
    down
    exit 1
}

down() {
    if running; then
        local pid
        pid="$(cat "$dir/pid")"
        kill "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$dir/pid" "$dir/bootstrap"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
