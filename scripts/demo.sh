#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo on the embedded broker.
# Extra arguments go to `beckon demo` (default: --duration 60).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DBECKON_BUILD_TESTS=OFF -DBECKON_BUILD_BENCH=OFF -DBECKON_SANITIZE=OFF -DBECKON_FUZZ=OFF
if [ $# -eq 0 ]; then set -- --duration 60; fi
exec ./build/src/app/beckon demo "$@"
