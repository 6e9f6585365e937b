#!/usr/bin/env bash
# The proxy benchmark, in one command (README, "Benchmarks"): installs the load generator (hey), nginx
# (the upstream and the reverse-proxy ceiling) and mitmproxy (from PyPI, into a venv under
# ~/.cache), builds egress in release, and prints every figure of one run as tables with ratios.
# Arguments go to scripts/bench-proxy.py (--help lists them; --soak 0 skips the 10-minute soak).
# Figures only: nothing is asserted. Every server listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

packages=(hey nginx-light openssl python3-venv)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # Debian starts the packaged nginx on install; the benchmark runs its own instances.
    $sudo pkill -x nginx 2>/dev/null || true
fi

venv="$HOME/.cache/bottle-egress-bench/mitmproxy"
if [[ " $* " != *" --no-mitmproxy "* ]] && [ ! -x "$venv/bin/mitmdump" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'mitmproxy==11.*'
fi

swift build -c release --product egress-scanner
swift build -c release --product egress
exec python3 scripts/bench-proxy.py "$@"
