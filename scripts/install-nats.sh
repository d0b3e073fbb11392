#!/usr/bin/env bash
# Installs nats-server from Debian's packages when it is missing; the NATS
# end-to-end tests and `make nats-up` need it. Does nothing when present.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
echo "install-nats: nats-server is missing, installing it from Debian's packages" >&2
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nats-server
