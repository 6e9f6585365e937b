#!/usr/bin/env bash
# The DLP evaluations, through the same decoding and catalog the proxy uses. Prints the table;
# exits non-zero when a target is missed.
#   scripts/dlp-eval.sh            outbound (Tests/DetectorsTests/DLPEvaluation.swift): recall per
#                                  detector kind over nine carriers an agent sends, and false
#                                  positives per MB of real text.
#   scripts/dlp-eval.sh --inbound  inbound (Tests/DetectorsTests/Inbound/InboundEvaluation.swift):
#                                  recall per injection kind on the tuning and the held-out
#                                  phrasings in fourteen carriers, false-positive documents among
#                                  real markdown and hard negatives, scan time (a debug build:
#                                  scripts/bench.sh has the release figure).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=DLPEvaluation
first='^kind '
last='^dlp-eval:'
if [ "${1:-}" = "--inbound" ]; then
    filter=InboundEvaluation
    last='^inbound-eval:'
elif [ -n "${1:-}" ]; then
    echo "usage: scripts/dlp-eval.sh [--inbound]" >&2
    exit 2
fi
swift build --build-tests >/dev/null
output=$(swift test --skip-build --filter "$filter" 2>&1) && status=0 || status=$?
sed -n "/$first/,/$last/p" <<<"$output"
if [ "$status" -ne 0 ]; then
    grep -E 'recorded an issue' <<<"$output" | head -20
    exit "$status"
fi
