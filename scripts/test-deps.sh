#!/usr/bin/env bash
# Installs what the end-to-end tests need when it is missing: each backend
# adds an install-*.sh script beside this one, and every one of them is run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/install-*.sh; do
    [ -e "$script" ] || continue
    bash "$script"
done
