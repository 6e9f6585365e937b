"""The upstream of the sidecar-topology test, run inside its own network namespace.

An HTTPS origin on one address that plays three real services for clients behind the proxy:
  /echo            a JSON echo of the request (method, path, headers, body)
  /git/<repo>      git smart HTTP through `git http-backend` (CGI) for repositories under --git-root
  /simple/, /files a PEP 503 package index serving one wheel built at start-up
Every request is appended to --log as a JSON line, so the test can assert what reached it.
Writes --ready once it listens. Stops on SIGTERM.
"""

import argparse
import base64
import hashlib
import http.server
import io
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import zipfile

WHEEL_NAME = "demo_pkg-1.0-py3-none-any.whl"


def build_wheel():
    files = {
        "demo_pkg/__init__.py": b"GREETING = 'installed through the egress proxy'\n",
        "demo_pkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n",
        "demo_pkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: egress-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("demo_pkg-1.0.dist-info/RECORD,,")
    files["demo_pkg-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "egress-test-upstream"

    def log_message(self, format, *args):
        pass

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def record(self, body):
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with self.server.log_lock, open(self.server.log_path, "a") as log:
            log.write(json.dumps(entry) + "\n")
        return entry

    def reply(self, status, body, content_type="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        body = self.read_body()
        entry = self.record(body)
        path = self.path.split("?", 1)[0]
        if path == "/echo":
            self.reply(200, json.dumps(entry).encode(), "application/json")
        elif path.startswith("/git/"):
            self.git(body)
        elif path == "/simple/demo-pkg/":
            digest = hashlib.sha256(self.server.wheel).hexdigest()
            page = f'<html><body><a href="/files/{WHEEL_NAME}#sha256={digest}">{WHEEL_NAME}</a></body></html>'
            self.reply(200, page.encode(), "text/html")
        elif path == f"/files/{WHEEL_NAME}":
            self.reply(200, self.server.wheel)
        else:
            self.reply(404, b"not found\n", "text/plain")

    do_GET = do_POST = do_HEAD = do_PUT = handle_any

    def git(self, body):
        path, _, query = self.path[len("/git") :].partition("?")
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.git_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
        }
        if self.headers.get("content-encoding"):
            environment["HTTP_CONTENT_ENCODING"] = self.headers["content-encoding"]
        if self.headers.get("git-protocol"):
            environment["GIT_PROTOCOL"] = self.headers["git-protocol"]
        output = subprocess.run(
            ["git", "http-backend"], input=body, env=environment, capture_output=True, check=False
        ).stdout
        head, _, content = output.partition(b"\r\n\r\n")
        if not _:
            head, _, content = output.partition(b"\n\n")
        status, content_type, headers = 200, "application/octet-stream", []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "status":
                status = int(value.split()[0])
            elif name == "content-type":
                content_type = value
            elif name:
                headers.append((name, value))
        self.reply(status, content, content_type, headers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--git-root", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    arguments = parser.parse_args()

    server = http.server.ThreadingHTTPServer((arguments.address, arguments.port), Handler)
    server.daemon_threads = True
    server.log_path = arguments.log
    server.log_lock = threading.Lock()
    server.git_root = arguments.git_root
    server.wheel = build_wheel()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(arguments.cert, arguments.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    # The test runner may spawn us with SIGTERM blocked (inherited from its own threads' mask).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    with open(arguments.ready, "w") as ready:
        ready.write("ready\n")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
