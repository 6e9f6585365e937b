#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds egress and runs it on examples/routes.yaml at
# 127.0.0.1:8080. The CA for agents to trust is written to ./.egress/ca-cert.pem.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product egress
swift build -c release --product egress-scanner
exec .build/release/egress run --routes examples/routes.yaml --listen 127.0.0.1:8080 --state-dir .egress "$@"
