#!/usr/bin/env bash
# Builds in release and prints DLP figures: detection-engine MB/s per worker with the full
# default catalog on a mixed corpus, a sandboxed worker's MB/s through its socket, and the
# IPC round trip for a 1 KiB body. Figures only: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product egress-scanner
swift build -c release --product EgressBenchmarks
.build/release/EgressBenchmarks
