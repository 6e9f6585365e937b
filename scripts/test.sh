#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the whole test suite (unit and end-to-end tests with real
# curl, git, TLS and processes; all traffic stays on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
swift build --build-tests
swift test --skip-build
