#!/usr/bin/env python3
"""The proxy benchmark (README, "Benchmarks"): egress against direct, against nginx doing the same
TLS and HTTP work as a reverse proxy (the ceiling), and against mitmproxy doing the same job, all in
one run on this machine, printed as a table of ratios. Run through scripts/bench-proxy.sh, which
installs what this needs and builds egress in release.

Load comes from `hey` (Debian's package): Go's HTTP client keeps connections alive through a CONNECT
proxy with TLS, has a fixed-rate mode (-q) for latency at a moderate rate, and prints percentiles.
It skips certificate verification, which costs nothing in throughput and lets one client talk to
every target. Every server listens on 127.0.0.1; nothing leaves the machine.
"""

import argparse
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import ssl
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-upstream-token-0123456789"
# A clean environment for every client and server: this machine exports proxy and CA variables
# that would otherwise change what the clients do.
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.environ.get("HOME", "/root")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench-proxy: nothing listens on 127.0.0.1:{port} after {timeout} s")


def run(command, **kwargs):
    return subprocess.run(command, check=True, env=CLEAN_ENV, capture_output=True, text=True, **kwargs)


# --- process accounting -------------------------------------------------------------------------

def process_tree(pid):
    """`pid` and every descendant, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def cpu_seconds(pid):
    """User and system CPU of a process and its descendants, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / ticks


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def tree_rss_kib(pid):
    total = 0
    for member in process_tree(pid):
        try:
            total += memory_kib(member, "VmRSS")
        except OSError:
            continue
    return total


class Server:
    def __init__(self, name, command, port, log, env=None):
        self.name = name
        self.port = port
        self.log = open(log, "w")
        self.process = subprocess.Popen(command, env=env or CLEAN_ENV, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port)
        except SystemExit:
            self.stop()
            raise SystemExit(f"bench-proxy: {name} did not start; see {log}")

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --- load ---------------------------------------------------------------------------------------

class Load:
    """One `hey` run's figures."""

    def __init__(self, output, elapsed_cpu=None):
        def number(pattern):
            match = re.search(pattern, output)
            return float(match.group(1)) if match else None

        self.rps = number(r"Requests/sec:\s+([\d.]+)")
        self.p50 = number(r"50% in ([\d.]+) secs")
        self.p99 = number(r"99% in ([\d.]+) secs")
        statuses = dict((int(code), int(count)) for code, count in re.findall(r"\[(\d+)\]\s+(\d+) responses", output))
        self.requests = sum(statuses.values())
        self.failures = sum(count for code, count in statuses.items() if code >= 300)
        errors = re.search(r"Error distribution:\n((?:.+\n?)*)", output)
        self.errors = errors.group(1).strip() if errors else ""
        self.cpu = elapsed_cpu

    @property
    def ok(self):
        return self.requests > 0 and self.failures == 0 and not self.errors

    def cpu_per_request_us(self):
        if self.cpu is None or not self.requests:
            return None
        return self.cpu / self.requests * 1e6


def hey_command(url, *, proxy=None, duration, concurrency=16, rate=None, method="POST", body=None):
    command = ["hey", "-z", f"{duration}s", "-c", str(concurrency), "-m", method, "-t", "30"]
    if rate:
        # hey's -q is per worker.
        command += ["-q", f"{rate / concurrency:.3f}"]
    if body:
        command += ["-D", body, "-T", "application/octet-stream"]
    if proxy:
        command += ["-x", f"http://127.0.0.1:{proxy}"]
    command.append(url)
    return command


def hey(url, *, measured_pid=None, **options):
    command = hey_command(url, **options)
    before = cpu_seconds(measured_pid) if measured_pid else None
    output = run(command).stdout
    after = cpu_seconds(measured_pid) if measured_pid else None
    load = Load(output, None if before is None else after - before)
    if not load.ok:
        print(f"bench-proxy: {' '.join(command)}: {load.failures} non-2xx, errors: {load.errors or 'none'}", file=sys.stderr)
    return load


def curl_transfer(url, *, proxy=None, upload=None):
    """Seconds and bytes per second for one large transfer with curl (unverified, like hey)."""
    command = ["curl", "-sS", "--fail", "-k", "-o", "/dev/null", "-w", "%{time_total} %{speed_download} %{speed_upload}"]
    if proxy:
        command += ["-x", f"http://127.0.0.1:{proxy}"]
    if upload:
        command += ["-T", upload]
    command.append(url)
    total, download, upload_speed = run(command).stdout.split()
    return float(total), float(upload_speed if upload else download)


# --- the fixture --------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="bench-proxy-")
        # nginx's workers drop root for its default user, which must read the files and write PUTs.
        os.chmod(self.work, 0o755)
        self.servers = []
        self.egress_binary = os.path.join(ROOT, ".build/release/egress")
        for binary in [self.egress_binary, self.egress_binary + "-scanner"]:
            if not os.path.exists(binary):
                raise SystemExit(f"bench-proxy: {binary} is missing; run scripts/bench-proxy.sh, which builds it")

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def close(self):
        for server in reversed(self.servers):
            server.stop()
        self.servers = []
        shutil.rmtree(self.work, ignore_errors=True)

    def start(self, *args, **kwargs):
        server = Server(*args, **kwargs)
        self.servers.append(server)
        return server

    def stop(self, server):
        server.stop()
        self.servers.remove(server)

    # Certificates: one CA, one leaf for every name the upstream answers to.
    def make_certificates(self):
        ca_key, self.ca = self.path("ca.key"), self.path("ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
             "-out", self.ca, "-days", "2", "-subj", "/CN=bench-proxy CA"])
        key, csr, self.cert, self.key = self.path("up.key"), self.path("up.csr"), self.path("up.pem"), self.path("up.key")
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
             "-subj", "/CN=bench.test"])
        with open(self.path("san.ext"), "w") as f:
            f.write("subjectAltName=DNS:plain.test,DNS:dlp.test,DNS:bench.test,DNS:sse.test,DNS:ssepass.test,IP:127.0.0.1\n")
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial", "-out", self.cert,
             "-days", "2", "-extfile", self.path("san.ext")])

    def make_files(self):
        os.makedirs(self.path("files"))
        for writable in ["dav", "davtmp"]:
            os.makedirs(self.path(writable))
            os.chmod(self.path(writable), 0o777)
        with open(self.path("files", "big"), "wb") as f:
            f.write(os.urandom(self.args.download_mib << 20))
        with open(self.path("upload.bin"), "wb") as f:
            f.write(os.urandom(self.args.upload_mib << 20))
        # What an agent sends an LLM API: a JSON chat request of prose and code, 1 KiB.
        prose = (b"Please refactor parse_config() so that an empty file yields the defaults instead of "
                 b"raising, keep the public signature, and add a test for it. The current code is:\\n"
                 b"def parse_config(path):\\n    with open(path) as f:\\n        return yaml.safe_load(f)['app']\\n")
        content = (prose * 8)[:940]
        with open(self.path("body-1k"), "wb") as f:
            f.write(b'{"model":"bench","max_tokens":512,"messages":[{"role":"user","content":"' + content + b'"}]}')
        with open(self.path("body-1m"), "wb") as f:
            f.write(b'{"text":"' + b"lorem ipsum dolor sit amet " * ((1 << 20) // 27) + b'"}')

    def nginx(self, name, server_block, workers):
        conf = self.path(f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes {workers};
pid {self.path(name + '.pid')};
error_log {self.path(name + '.error.log')} warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_max_body_size 0;
    client_body_buffer_size 2m;
    client_body_temp_path {self.path('davtmp')};
    proxy_temp_path {self.path(name + '-proxy-tmp')};
    ssl_protocols TLSv1.2 TLSv1.3;
    {server_block}
}}
""")
        return conf

    def start_upstream(self):
        port = free_port()
        # One worker: the upstream is the same in every measurement and must not take the cores
        # the proxies compete for.
        conf = self.nginx("upstream", f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        location = /upload {{ dav_methods PUT; root {self.path('dav')}; }}
        location = /big {{ root {self.path('files')}; }}
        location / {{ return 200 "ok\\n"; }}
    }}""", workers=1)
        self.upstream = self.start("nginx upstream", ["nginx", "-c", conf, "-e", self.path("upstream.error.log")], port, self.path("upstream.log"))

    def start_nginx_proxy(self):
        port = free_port()
        conf = self.nginx("nginx-proxy", f"""
    upstream bench {{ server 127.0.0.1:{self.upstream.port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        location / {{
            proxy_pass https://bench;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_set_header Connection "";
            proxy_set_header Host plain.test;
            proxy_set_header Authorization "token {TOKEN}";
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate {self.ca};
            proxy_ssl_name plain.test;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;
        }}
    }}""", workers="auto")
        return self.start("nginx proxy", ["nginx", "-c", conf, "-e", self.path("nginx-proxy.error.log")], port, self.path("nginx-proxy.log"))

    def start_egress(self, scanners=None):
        port = free_port()
        routes = self.path("routes.yaml")
        with open(routes, "w") as f:
            f.write("""log: 1
routes:
  - host: "plain.test"
    auth_scheme: "token"
    token_env: "EGRESS_TOKEN_0"
    dlp: {outbound_detectors: false, inbound_detectors: false}
  - host: "dlp.test"
    auth_scheme: "token"
    token_env: "EGRESS_TOKEN_0"
    dlp: {outbound_on_match: block, inbound_detectors: false}
  - host: "sse.test"
    dlp: {outbound_detectors: false, inbound_on_match: block}
  - host: "ssepass.test"
    dlp: {outbound_detectors: false, inbound_detectors: false}
""")
        state = self.path(f"egress-state-{port}")
        command = [self.egress_binary, "run", "--routes", routes, "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                   "--control", f"unix:{state}/control.sock", "--upstream-ca", self.ca, "--allow-private-upstreams",
                   "--connect-to", f"plain.test:443:127.0.0.1:{self.upstream.port}",
                   "--connect-to", f"dlp.test:443:127.0.0.1:{self.upstream.port}",
                   "--connect-to", f"sse.test:443:127.0.0.1:{self.sse.port}",
                   "--connect-to", f"ssepass.test:443:127.0.0.1:{self.sse.port}"]
        if scanners:
            command += ["--scanners", str(scanners)]
        env = dict(CLEAN_ENV, EGRESS_TOKEN_0=TOKEN)
        server = self.start("egress", command, port, self.path(f"egress-{port}.log"), env=env)
        run(["curl", "-sS", "-o", "/dev/null", "-x", f"http://127.0.0.1:{port}", "-k", "https://plain.test/warmup"])
        return server

    def start_mitmproxy(self):
        venv = os.path.expanduser("~/.cache/bottle-egress-bench/mitmproxy")
        port = free_port()
        addon = self.path("mitm_addon.py")
        with open(addon, "w") as f:
            f.write(MITM_ADDON.replace("UPSTREAM_PORT", str(self.upstream.port)).replace("TOKEN_VALUE", TOKEN))
        command = [os.path.join(venv, "bin", "mitmdump"), "-q", "--listen-host", "127.0.0.1", "-p", str(port), "-s", addon,
                   "--set", "ssl_insecure=true", "--set", "connection_strategy=lazy",
                   "--set", f"confdir={self.path('mitmproxy-conf')}"]
        return self.start("mitmproxy", command, port, self.path("mitmproxy.log"))


# mitmproxy doing egress's job: the allowlist, the token injected, the body scanned for secrets
# (the prefixes of the catalog's most common kinds) and refused on a match.
MITM_ADDON = r'''
import re
from mitmproxy import http

ROUTES = {"plain.test": False, "dlp.test": True}
SECRETS = re.compile(
    rb"ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}|gl(?:pat|dt|rt)-[A-Za-z0-9_\-]{20}|(?:AKIA|ASIA)[A-Z0-9]{16}"
    rb"|sk-ant-[a-z0-9]{2,8}-[A-Za-z0-9_\-]{80,}|sk-(?:proj-)?[A-Za-z0-9_\-]{40,}|xox[baprs]-[A-Za-z0-9\-]{10,}"
    rb"|AIza[0-9A-Za-z_\-]{35}|-----BEGIN[ A-Z]*PRIVATE KEY-----|npm_[A-Za-z0-9]{36}|hf_[A-Za-z]{34}"
)

def request(flow: http.HTTPFlow) -> None:
    host = flow.request.pretty_host
    if host not in ROUTES:
        flow.response = http.Response.make(403, b"host not allowed")
        return
    if ROUTES[host] and SECRETS.search(flow.request.get_content() or b""):
        flow.response = http.Response.make(403, b"secret detected")
        return
    flow.request.host = "127.0.0.1"
    flow.request.port = UPSTREAM_PORT
    flow.request.headers["host"] = host
    flow.request.headers["authorization"] = "token TOKEN_VALUE"
'''


# --- the run ------------------------------------------------------------------------------------

class EventStreamServer:
    """A TLS server streaming server-sent events at a fixed interval, noting when it sent each,
    so that a client in this process can tell how long each event took to arrive."""

    def __init__(self, cert, key, events, interval):
        self.events, self.interval = events, interval
        self.sent = {}
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.stream, args=(raw,), daemon=True).start()

    def stream(self, raw):
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                request += tls.recv(4096)
            run = request.split(b" ")[1].decode().rsplit("/", 1)[-1]
            tls.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
            # About what an LLM API streams: a JSON delta per event.
            for n in range(self.events):
                time.sleep(self.interval)
                self.sent[(run, n)] = time.monotonic()
                tls.sendall(f'id: {n}\ndata: {{"type":"content_block_delta","delta":{{"type":"text_delta","text":"token {n} of the answer"}}}}\n\n'.encode())
            tls.close()
        except OSError:
            pass


def event_latencies(server, run, host, proxy_port=None):
    """Seconds from each event's send to its arrival at a client (through CONNECT when proxied)."""
    raw = socket.create_connection(("127.0.0.1", proxy_port or server.port), timeout=30)
    if proxy_port:
        raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += raw.recv(1)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    tls = context.wrap_socket(raw, server_hostname=host)
    tls.sendall(f"GET /events/{run} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    arrived, buffered = {}, b""
    while len(arrived) < server.events:
        chunk = tls.recv(65536)
        if not chunk:
            break
        now = time.monotonic()
        buffered += chunk
        for match in re.finditer(rb"id: (\d+)\n", buffered):
            arrived.setdefault(int(match.group(1)), now)
        buffered = buffered[-64:]
    tls.close()
    return sorted(arrived[n] - server.sent[(run, n)] for n in arrived if (run, n) in server.sent)


def percentile(values, fraction):
    return values[min(len(values) - 1, int(len(values) * fraction))] if values else None


def median_load(loads):
    """The round with the median throughput."""
    ranked = sorted(loads, key=lambda load: load.rps or 0)
    return ranked[len(ranked) // 2]


def ratio(value, reference):
    return f"{value / reference:.2f}x" if value and reference else "-"


def fmt(value, unit=""):
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}{unit}"
    return f"{value:.2f}{unit}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive streams (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the saturation runs and of the large transfers; the median is reported (default 3)")
    parser.add_argument("--soak", type=int, default=600, help="seconds of the RSS soak on the DLP route (default 600; 0 skips)")
    parser.add_argument("--download-mib", type=int, default=200)
    parser.add_argument("--upload-mib", type=int, default=64)
    parser.add_argument("--scanner-sweep", default="1,2,4", help="pool sizes to sweep on the DLP route (empty skips)")
    parser.add_argument("--no-mitmproxy", action="store_true", help="skip mitmproxy (it is installed into a venv from PyPI)")
    parser.add_argument("--sse-events", type=int, default=300, help="events per server-sent-event stream (default 300, 10 ms apart)")
    args = parser.parse_args()

    bench = Bench(args)
    rows = []
    try:
        bench.make_certificates()
        bench.make_files()
        bench.start_upstream()
        bench.sse = EventStreamServer(bench.cert, bench.key, events=args.sse_events, interval=0.01)
        up = bench.upstream.port
        d, c = args.duration, args.concurrency
        small, large = bench.path("body-1k"), bench.path("body-1m")
        direct_url = f"https://127.0.0.1:{up}/"

        # Saturation, 1 KiB POST bodies.
        # The four paths are measured in interleaved rounds and each reported by its median
        # round: this machine is shared, and a neighbour's burst should not decide one ratio.
        nginx_proxy = bench.start_nginx_proxy()
        egress = bench.start_egress()
        egress_idle_rss = memory_kib(egress.pid, "VmRSS")
        egress_idle_tree = tree_rss_kib(egress.pid)
        rounds = {"direct": [], "ceiling": [], "off": [], "on": []}
        for _ in range(args.rounds):
            rounds["direct"].append(hey(direct_url, duration=d, concurrency=c, body=small))
            rounds["ceiling"].append(hey(f"https://127.0.0.1:{nginx_proxy.port}/", duration=d, concurrency=c, body=small, measured_pid=nginx_proxy.pid))
            rounds["off"].append(hey("https://plain.test/", proxy=egress.port, duration=d, concurrency=c, body=small, measured_pid=egress.pid))
            rounds["on"].append(hey("https://dlp.test/", proxy=egress.port, duration=d, concurrency=c, body=small, measured_pid=egress.pid))
        direct, ceiling, off, on = (median_load(rounds[key]) for key in ["direct", "ceiling", "off", "on"])

        # Fixed moderate rate: half of the DLP route's saturation, the same rate for every path.
        rate = max(100, (on.rps or 200) / 2)
        fixed = {
            "direct": hey(direct_url, duration=d, concurrency=c, rate=rate, body=small),
            "nginx proxy": hey(f"https://127.0.0.1:{nginx_proxy.port}/", duration=d, concurrency=c, rate=rate, body=small),
            "egress, DLP off": hey("https://plain.test/", proxy=egress.port, duration=d, concurrency=c, rate=rate, body=small),
            "egress, DLP on": hey("https://dlp.test/", proxy=egress.port, duration=d, concurrency=c, rate=rate, body=small),
        }

        # 1 MiB bodies, written to the upstream in full before it answers (WebDAV PUT).
        direct_large = hey(f"https://127.0.0.1:{up}/upload", duration=d, concurrency=c, method="PUT", body=large)
        on_large = hey("https://dlp.test/upload", proxy=egress.port, duration=d, concurrency=c, method="PUT", body=large, measured_pid=egress.pid)

        # Large transfers each way on the DLP-off route, interleaved rounds like the saturation
        # runs (one transfer on a shared machine moves by a third from run to run); the median.
        transfers = {"download direct": [], "download egress": [], "upload direct": [], "upload egress": []}
        for _ in range(args.rounds):
            transfers["download direct"].append(curl_transfer(f"https://127.0.0.1:{up}/big"))
            transfers["download egress"].append(curl_transfer("https://plain.test/big", proxy=egress.port))
            transfers["upload direct"].append(curl_transfer(f"https://127.0.0.1:{up}/upload", upload=bench.path("upload.bin")))
            transfers["upload egress"].append(curl_transfer("https://plain.test/upload", proxy=egress.port, upload=bench.path("upload.bin")))
        median_transfer = {name: sorted(runs, key=lambda run: run[1])[len(runs) // 2] for name, runs in transfers.items()}
        download_direct, download_egress = median_transfer["download direct"], median_transfer["download egress"]
        upload_direct, upload_egress = median_transfer["upload direct"], median_transfer["upload egress"]
        egress_peak_rss = memory_kib(egress.pid, "VmHWM")

        # A server-sent-event stream, 10 ms between events: how long each event takes to reach the
        # client directly, through egress without DLP, and through egress scanning each event under
        # inbound block. Interleaved rounds; all events of a path's rounds pooled.
        sse = {"direct": [], "egress, DLP off": [], "egress, inbound block (each event scanned)": []}
        for round_number in range(args.rounds):
            sse["direct"] += event_latencies(bench.sse, f"direct{round_number}", "sse.test")
            sse["egress, DLP off"] += event_latencies(bench.sse, f"pass{round_number}", "ssepass.test", egress.port)
            sse["egress, inbound block (each event scanned)"] += event_latencies(bench.sse, f"scan{round_number}", "sse.test", egress.port)
        for values in sse.values():
            values.sort()

        # Soak: the DLP route at the moderate rate, the frontend's RSS sampled as it goes.
        soak_samples = []
        if args.soak:
            command = hey_command("https://dlp.test/", proxy=egress.port, duration=args.soak, concurrency=c, rate=rate, body=small)
            soak = subprocess.Popen(command, env=CLEAN_ENV, stdout=subprocess.PIPE, text=True)
            start = time.time()
            while soak.poll() is None:
                time.sleep(min(30, max(1, args.soak / 20)))
                soak_samples.append((time.time() - start, memory_kib(egress.pid, "VmRSS")))
            soak_load = Load(soak.stdout.read())
            if not soak_load.ok:
                print(f"bench-proxy: soak: {soak_load.failures} non-2xx, errors: {soak_load.errors or 'none'}", file=sys.stderr)
        bench.stop(egress)

        # The scanner pool's size against DLP throughput: one proxy per size, interleaved rounds,
        # the median round of each (a single run moves by a fifth on this machine).
        sizes = [int(s) for s in args.scanner_sweep.split(",") if s.strip()]
        swept = {size: bench.start_egress(scanners=size) for size in sizes}
        sweep_rounds = {size: [] for size in sizes}
        for _ in range(args.rounds if sizes else 0):
            for size in sizes:
                sweep_rounds[size].append(hey("https://dlp.test/", proxy=swept[size].port, duration=d, concurrency=c, body=small, measured_pid=swept[size].pid))
        sweep = [(size, median_load(sweep_rounds[size])) for size in sizes]
        for server in swept.values():
            bench.stop(server)

        mitm = None
        if not args.no_mitmproxy:
            mitmproxy = bench.start_mitmproxy()
            mitm = hey("https://dlp.test/", proxy=mitmproxy.port, duration=d, concurrency=c, body=small, measured_pid=mitmproxy.pid)
            bench.stop(mitmproxy)

        # --- the report ---
        print(f"bench-proxy, {datetime.date.today().isoformat()}, {os.cpu_count()} cores, {c} keep-alive streams, {d} s per run, "
          f"median of {args.rounds} interleaved rounds, hey as the client")
        print()
        print("| path (1 KiB POST, saturation) | req/s | vs direct | p50 | p99 | proxy CPU per request |")
        print("|---|---|---|---|---|---|")
        for name, load, reference in [("direct", direct, None), ("nginx as TLS reverse proxy (ceiling)", ceiling, direct),
                                      ("egress, DLP off", off, direct), ("egress, DLP on", on, direct),
                                      ("mitmproxy, same job", mitm, direct)]:
            if load is None:
                continue
            cpu = load.cpu_per_request_us()
            p50 = fmt(load.p50 * 1e3, " ms") if load.p50 is not None else "-"
            p99 = fmt(load.p99 * 1e3, " ms") if load.p99 is not None else "-"
            print(f"| {name} | {fmt(load.rps)} | {ratio(load.rps, direct.rps) if reference else '1'} | {p50} | {p99} | {fmt(cpu, ' µs') if cpu else '-'} |")
        print()
        print(f"| ratio | measured | target |")
        print("|---|---|---|")
        print(f"| DLP off / direct | {ratio(off.rps, direct.rps)} | ≥ 0.8x |")
        print(f"| DLP on / DLP off | {ratio(on.rps, off.rps)} | ≥ 0.85x |")
        print(f"| 1 MiB PUT with DLP / direct | {ratio(on_large.rps, direct_large.rps)} ({fmt(on_large.rps)} vs {fmt(direct_large.rps)} req/s) | ≥ 0.5x |")
        print(f"| {args.download_mib} MiB download, DLP off / direct | {ratio(download_egress[1], download_direct[1])} ({download_egress[1] / 1e6:,.0f} vs {download_direct[1] / 1e6:,.0f} MB/s) | ≥ 0.9x |")
        print(f"| {args.upload_mib} MiB upload, DLP off / direct | {ratio(upload_egress[1], upload_direct[1])} ({upload_egress[1] / 1e6:,.0f} vs {upload_direct[1] / 1e6:,.0f} MB/s) | - |")
        if mitm:
            print(f"| egress DLP on / mitmproxy | {ratio(on.rps, mitm.rps)} | ≥ 50x |")
        ceiling_cpu, on_cpu = ceiling.cpu_per_request_us(), on.cpu_per_request_us()
        print(f"| CPU per request, egress DLP on / nginx proxy | {ratio(on_cpu, ceiling_cpu)} | ≤ 2x |")
        print()
        print(f"| latency at {rate:,.0f} req/s (1 KiB POST) | p50 | p99 | added p50 | added p99 |")
        print("|---|---|---|---|---|")
        base = fixed["direct"]
        for name, load in fixed.items():
            added50 = None if load.p50 is None or base.p50 is None else (load.p50 - base.p50) * 1e3
            added99 = None if load.p99 is None or base.p99 is None else (load.p99 - base.p99) * 1e3
            print(f"| {name} | {fmt(load.p50 * 1e3, ' ms')} | {fmt(load.p99 * 1e3, ' ms')} | "
                  f"{'-' if name == 'direct' else fmt(added50, ' ms')} | {'-' if name == 'direct' else fmt(added99, ' ms')} |")
        print()
        print(f"| server-sent events, {args.sse_events} per stream 10 ms apart | events | p50 arrival | p99 arrival | added p50 vs DLP off |")
        print("|---|---|---|---|---|")
        off50 = percentile(sse["egress, DLP off"], 0.5)
        for name, values in sse.items():
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            added = "-" if "scanned" not in name or p50 is None or off50 is None else fmt((p50 - off50) * 1e3, " ms")
            print(f"| {name} | {len(values)} | {fmt(p50 * 1e3 if p50 is not None else None, ' ms')} | "
                  f"{fmt(p99 * 1e3 if p99 is not None else None, ' ms')} | {added} |")
        print()
        print(f"| egress memory | frontend RSS | with scanner workers |")
        print("|---|---|---|")
        print(f"| idle | {egress_idle_rss / 1024:.1f} MiB | {egress_idle_tree / 1024:.1f} MiB |")
        print(f"| peak (after the 1 MiB and large-transfer runs) | {egress_peak_rss / 1024:.1f} MiB | - |")
        if soak_samples:
            first, last = soak_samples[0][1], soak_samples[-1][1]
            print(f"| soak, {args.soak} s at {rate:,.0f} req/s: first / last / max sample | {first / 1024:.1f} / {last / 1024:.1f} / "
                  f"{max(s[1] for s in soak_samples) / 1024:.1f} MiB | - |")
        if sweep:
            print()
            print("| scanner workers | DLP on req/s | vs DLP off | CPU per request |")
            print("|---|---|---|---|")
            for size, load in sweep:
                print(f"| {size} | {fmt(load.rps)} | {ratio(load.rps, off.rps)} | {fmt(load.cpu_per_request_us(), ' µs')} |")
        failed = [load for load in [direct, ceiling, off, on, direct_large, on_large, *fixed.values()] if not load.ok]
        if failed:
            print(f"\nbench-proxy: {len(failed)} run(s) had failed requests (see above); their figures are not comparable", file=sys.stderr)
            return 1
        return 0
    finally:
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
