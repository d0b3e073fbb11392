#!/usr/bin/env bash
# Installs the Python clients the tests and benchmarks use as independent
# peers (confluent-kafka, a second librdkafka client) when they are missing.
set -euo pipefail
python="${PYTHON:-python3}"
if "$python" -c "import confluent_kafka" >/dev/null 2>&1; then
    exit 0
fi
echo "install-python-peers: installing confluent-kafka" >&2
"$python" -m pip install --quiet confluent-kafka
