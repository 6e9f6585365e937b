#!/usr/bin/env bash
# Installs what bottle egress needs on a fresh Debian machine (the Swift toolchain is expected on
# PATH already). With --test, also what the test suite drives: headless Chromium with its driver
# and Selenium for the operator-page test; the Python websockets library for the WebSocket tests
# and httpx with HTTP/2 for the HTTP/2 tests;
# iproute2 (ip netns) and util-linux (setpriv) for the sidecar-topology and unprivileged tests.
# With --bench, what scripts/bench-proxy.sh runs.
# Safe to run again: apt and pip skip what is installed.
set -euo pipefail

packages=(git curl ca-certificates pkg-config libpcre2-dev libseccomp-dev zlib1g-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(chromium chromium-driver iproute2 util-linux)
fi
if [ "${1:-}" = "--bench" ]; then
    # scripts/bench-proxy.sh: the load generator, nginx (upstream and ceiling), a venv for mitmproxy.
    packages+=(hey nginx-light openssl python3-venv)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # Debian starts a packaged nginx on install; the benchmark runs its own instances.
    if [ "${1:-}" = "--bench" ]; then $sudo pkill -x nginx 2>/dev/null || true; fi
fi

if [ "${1:-}" = "--test" ]; then
    python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check selenium
    # The WebSocket tests' agents and server (Tests/FrontendTests/WebSocket/websocket_peer.py).
    python3 -c "import websockets.sync.client" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "websockets>=15"
    # The HTTP/2 tests' Python agent (Tests/FrontendTests/HTTP2/httpx_client.py).
    python3 -c "import httpx, h2" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "httpx[http2]>=0.27"
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or newer is required)" >&2; exit 1; }
