#!/usr/bin/env bash
# A longer run of the differential fuzz test (Tests/FrontendTests/Fuzz): random and mutated request
# streams through the real proxy to a recording upstream on 127.0.0.1. Prints one line per seed.
#
#   scripts/fuzz.sh [CASES_PER_SEED] [SEED...]      # default: 3000 cases, seeds 1 2 3
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-3000}
shift || true
seeds=("$@")
((${#seeds[@]})) || seeds=(1 2 3)
swift build --build-tests >/dev/null
for seed in "${seeds[@]}"; do
    start=$(date +%s)
    if output=$(FUZZ_CASES=$cases FUZZ_SEED=$seed swift test --skip-build --filter DifferentialFuzzTests 2>&1); then
        verdict=passed
    else
        verdict=FAILED
    fi
    summary=$(grep -m1 '^fuzz:' <<<"$output" || echo "fuzz: seed $seed, no summary")
    echo "$summary — $verdict in $(($(date +%s) - start)) s"
    if [ "$verdict" = FAILED ]; then
        grep -E 'recorded an issue|↳ case' <<<"$output" | head -20
        exit 1
    fi
done
