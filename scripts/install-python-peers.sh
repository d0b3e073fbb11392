#!/usr/bin/env bash
# Installs the Python clients the benchmark peers under bench/ use, each
# only when its import fails: nats-py (module nats) and confluent-kafka
# (module confluent_kafka). Pass package names to install only those.
set -euo pipefail
python="${PYTHON:-python3}"
wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
    wanted=(nats-py confluent-kafka)
fi
missing=()
for package in "${wanted[@]}"; do
    case "$package" in
        nats-py) module=nats ;;
        confluent-kafka) module=confluent_kafka ;;
        *) echo "install-python-peers: unknown package $package" >&2; exit 2 ;;
    esac
    if ! "$python" -c "import $module" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-python-peers: installing ${missing[*]}" >&2
    "$python" -m pip install --quiet "${missing[@]}"
fi
