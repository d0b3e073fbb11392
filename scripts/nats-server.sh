#!/usr/bin/env bash
# Starts or stops one nats-server on loopback with JetStream, its store,
# pid file and log kept in DIR (a temporary directory, removed on stop).
#   scripts/nats-server.sh up PORT DIR
#   scripts/nats-server.sh down PORT DIR
set -euo pipefail
action="${1:?usage: nats-server.sh up|down PORT DIR}"
port="${2:?usage: nats-server.sh up|down PORT DIR}"
dir="${3:?usage: nats-server.sh up|down PORT DIR}"
pidfile="$dir/nats-server.pid"

running() {
    [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

case "$action" in
up)
    if running; then
        echo "nats-server already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
        exit 0
    fi
    server="$(command -v nats-server || echo /usr/sbin/nats-server)"
    mkdir -p "$dir/store"
    nohup "$server" -a 127.0.0.1 -p "$port" -js -sd "$dir/store" -P "$pidfile" \
        -l "$dir/nats-server.log" >/dev/null 2>&1 &
    started=$!
    for _ in $(seq 100); do
        if ! kill -0 "$started" 2>/dev/null; then
            echo "nats-server exited at start (port $port taken?); see $dir/nats-server.log" >&2
            exit 1
        fi
        # the server logs this once it listens; a taken port makes it exit instead
        if grep -q "Server is ready" "$dir/nats-server.log" 2>/dev/null; then
            echo "nats-server listening on nats://127.0.0.1:$port (store and pid in $dir)"
            exit 0
        fi
        sleep 0.1
    done
    echo "nats-server did not start on 127.0.0.1:$port; see $dir/nats-server.log" >&2
    exit 1
    ;;
down)
    if running; then
        pid="$(cat "$pidfile")"
        kill "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid"
        fi
        echo "nats-server on 127.0.0.1:$port stopped"
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: nats-server.sh up|down PORT DIR" >&2
    exit 2
    ;;
esac
