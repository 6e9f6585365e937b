#!/usr/bin/env bash
# The DLP evaluation (Tests/DetectorsTests/DLPEvaluation.swift): recall per detector kind over eight
# carriers an agent sends, and false positives per MB of real text, through the same decoding and
# catalog the proxy uses. Prints the table; exits non-zero when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests >/dev/null
output=$(swift test --skip-build --filter DLPEvaluation 2>&1) && status=0 || status=$?
sed -n '/^kind /,/^dlp-eval:/p' <<<"$output"
if [ "$status" -ne 0 ]; then
    grep -E 'recorded an issue' <<<"$output" | head -20
    exit "$status"
fi
