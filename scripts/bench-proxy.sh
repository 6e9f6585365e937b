#!/usr/bin/env bash
# The proxy benchmark, in one command (README, "Benchmarks"): installs the load generator (hey), nginx
# (the upstream and the reverse-proxy ceiling) and mitmproxy (from PyPI, into a venv under
# ~/.cache), builds egress in release, and prints every figure of one run as tables with ratios.
# Arguments go to scripts/bench-proxy.py (--help lists them; --soak 0 skips the 10-minute soak).
# Figures only: nothing is asserted. Every server listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench

venv="$HOME/.cache/bottle-egress-bench/mitmproxy"
if [[ " $* " != *" --no-mitmproxy "* ]] && [ ! -x "$venv/bin/mitmdump" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'mitmproxy==11.*'
fi

swift build -c release --product egress-scanner
swift build -c release --product egress
exec python3 scripts/bench-proxy.py "$@"
