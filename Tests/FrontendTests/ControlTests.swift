import EgressTestSupport
import Foundation
import NIOCore
import Testing

@testable import Frontend

/// The control plane end to end: a real proxy with a real scanner worker, the control listener on a
/// unix socket (or loopback TCP), curl as the agent and as the operator, and the `egress` binary.
@Suite("Control listener and supervise", .timeLimit(.minutes(2)))
struct ControlTests {
    static let token = DLPThroughProxyTests.token
    static let routes = """
        log: 1
        routes:
          - host: "api.test"
            dlp: {inbound_detectors: false}
        """

    /// A proxy with one scanner worker under the default `supervise` policy, a TLS upstream for
    /// api.test and a control server on `unix:<proxy state dir>/control.sock`.
    struct Setup {
        let proxy: ProxyHarness
        let upstream: UpstreamServer
        let control: ControlServer
        var socketPath: String { proxy.directory.file("control.sock") }

        static func run(
            superviseTimeout: TimeAmount = .seconds(300),
            _ body: (Setup) async throws -> Void
        ) async throws {
            let pki = try TestPKI()
            let upstream = try await UpstreamServer.start(tls: try pki.serverContext(for: "api.test"))
            let proxy = try await ProxyHarness.start(
                routes: ControlTests.routes,
                connectTo: [("api.test", 443, upstream.port)],
                trusting: pki,
                scanners: 1,
                superviseTimeout: superviseTimeout
            )
            let control: ControlServer
            do {
                control = try await ControlServer.start(
                    address: .unix(path: proxy.directory.file("control.sock")),
                    token: nil,
                    supervision: proxy.supervision,
                    metrics: proxy.metrics
                )
            } catch {
                await proxy.shutdown()
                await upstream.shutdown()
                throw error
            }
            let setup = Setup(proxy: proxy, upstream: upstream, control: control)
            do {
                try await body(setup)
            } catch {
                await setup.shutdown()
                throw error
            }
            await setup.shutdown()
        }

        func shutdown() async {
            await control.shutdown()
            await proxy.shutdown()
            await upstream.shutdown()
        }

        /// curl against the control socket; the last line of stdout is the status code.
        func ask(_ method: String, _ path: String) async throws -> (status: Int, body: String) {
            let result = try await runProcess(
                "/usr/bin/curl",
                [
                    "-sS", "--max-time", "30", "--unix-socket", socketPath, "-X", method, "-w", "\n%{http_code}",
                    "http://localhost\(path)",
                ]
            )
            return ControlTests.split(result)
        }

        func pending() async throws -> [[String: Any]] {
            let (status, body) = try await ask("GET", "/pending")
            guard status == 200 else { return [] }
            return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []
        }

        /// Waits (bounded) until exactly `count` requests are held.
        func waitForPending(_ count: Int) async throws -> [[String: Any]] {
            for _ in 0..<300 {
                let held = try await pending()
                if held.count == count { return held }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await pending()
        }

        /// The agent's request, sent in the background: it stays open while held.
        func agentPost(_ path: String = "/s") -> Task<ProcessResult, any Error> {
            let proxy = self.proxy
            return Task {
                try await curl(proxy, ["-w", "\n%{http_code}", "-d", ControlTests.token, "https://api.test\(path)"])
            }
        }

        func superviseStatuses() -> [String] {
            proxy.events.events("egress_supervise").compactMap { $0["status"] as? String }
        }

        func egress(_ arguments: [String]) async throws -> ProcessResult {
            try await runProcess(egressExecutable, arguments + ["--control", "unix:\(socketPath)"])
        }
    }

    static func split(_ result: ProcessResult) -> (status: Int, body: String) {
        let text = result.stdout
        guard let newline = text.lastIndex(of: "\n") else { return (Int(text) ?? 0, "") }
        return (Int(text[text.index(after: newline)...]) ?? 0, String(text[..<newline]))
    }

    @Test("a held request is listed masked, approved with the CLI, and reaches the upstream unchanged")
    func approveWithCLI() async throws {
        try await Setup.run { s in
            let agent = s.agentPost()
            let held = try await s.waitForPending(1)
            let item = try #require(held.first)
            let id = try #require(item["id"] as? String)
            #expect(item["host"] as? String == "api.test")
            #expect(item["method"] as? String == "POST")
            #expect(item["path"] as? String == "/s")
            #expect(item["detectors"] as? [String] == ["github_token_classic"])
            #expect(item["labels"] as? [String] == ["GitHub token (classic)"])
            let previews = try #require(item["previews"] as? [String])
            #expect(previews.count == 1)
            #expect(previews.allSatisfy { !$0.isEmpty && !$0.contains(Self.token) })
            let expires = try #require(item["expires_in_s"] as? Int)
            #expect(expires > 0 && expires <= 300)
            #expect(s.upstream.requests.isEmpty)
            let raw = try await s.ask("GET", "/pending")
            #expect(!raw.body.contains(Self.token))

            let table = try await s.egress(["supervise", "list"])
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(
                lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                    == ["ID", "HOST", "METHOD", "PATH", "DETECTORS", "EXPIRES"]
            )
            #expect(lines.last?.hasPrefix(id) == true)
            #expect(lines.last?.contains("api.test") == true)
            #expect(lines.last?.contains("github_token_classic") == true)
            #expect(!table.stdout.contains(Self.token))

            let json = try await s.egress(["supervise", "list", "--json"])
            #expect(json.status == 0)
            let jsonLines = json.stdout.split(separator: "\n")
            #expect(jsonLines.count == 1)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(jsonLines[0].utf8)) as? [String: Any]
            )
            #expect(object["id"] as? String == id)
            #expect(object["host"] as? String == "api.test")
            #expect(object["method"] as? String == "POST")
            #expect(object["path"] as? String == "/s")
            #expect(object["detectors"] as? [String] == ["github_token_classic"])
            #expect(object["expires_in_s"] is Int)

            let approve = try await s.egress(["supervise", "approve", id])
            #expect(approve.status == 0, "\(approve.stderr)")
            let result = try await agent.value
            #expect(result.stdout.hasSuffix("\n200"))
            let seen = try #require(s.upstream.requests.first)
            #expect(seen.bodyText == Self.token)
            #expect(seen.head.uri == "/s")
            #expect(s.superviseStatuses() == ["held", "approved"])
            #expect(s.proxy.events.events("egress_supervise").allSatisfy { $0["id"] as? String == id })

            let again = try await s.egress(["supervise", "approve", id])
            #expect(again.status == 1)
            #expect(again.stderr == "egress: no held request with id \(id) (unknown, or already decided)\n")
            let unknown = try await s.egress(["supervise", "deny", "nosuchid"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no held request with id nosuchid"))
            let empty = try await s.egress(["supervise", "list"])
            #expect(empty.stdout == "no held requests\n")
            let emptyJSON = try await s.egress(["supervise", "list", "--json"])
            #expect(emptyJSON.status == 0 && emptyJSON.stdout.isEmpty)
        }
    }

    @Test("deny over the API answers the agent 403 with a reason; nothing reaches the upstream")
    func denyOverAPI() async throws {
        try await Setup.run { s in
            let agent = s.agentPost()
            let id = try #require(try await s.waitForPending(1).first?["id"] as? String)
            let denied = try await s.ask("POST", "/pending/\(id)/deny")
            #expect(denied.status == 200)
            #expect(denied.body == #"{"id":"\#(id)","decision":"denied"}"# + "\n")
            let result = try await agent.value
            #expect(result.stdout.hasSuffix("\n403"))
            #expect(result.stdout.contains("GitHub token (classic)"))
            #expect(result.stdout.contains("denied by the operator"))
            #expect(s.upstream.requests.isEmpty)
            #expect(s.superviseStatuses() == ["held", "denied"])
            let again = try await s.ask("POST", "/pending/\(id)/approve")
            #expect(again.status == 404)
            #expect(try await s.pending().isEmpty)
        }
    }

    @Test("GET /metrics is Prometheus text: requests by decision, scans, latency, held requests, the pool")
    func metrics() async throws {
        try await Setup.run { s in
            let agent = s.agentPost()
            _ = try await s.waitForPending(1)
            let during = try await s.ask("GET", "/metrics")
            #expect(during.status == 200)
            #expect(during.body.contains("egress_held_requests 1"))
            let id = try #require(try await s.pending().first?["id"] as? String)
            _ = try await s.ask("POST", "/pending/\(id)/deny")
            _ = try await agent.value
            let clean = try await curl(s.proxy, ["-d", "nothing secret", "https://api.test/clean"])
            #expect(clean.status == 0)
            let after = try await s.ask("GET", "/metrics").body
            #expect(after.contains("egress_held_requests 0"))
            #expect(after.contains(#"egress_requests_total{decision="blocked"} 1"#))
            #expect(after.contains(#"egress_requests_total{decision="forwarded"} 1"#))
            #expect(after.contains(#"egress_dlp_actions_total{direction="outbound",action="supervise"} 1"#))
            #expect(after.contains(#"egress_scans_total{direction="outbound",outcome="findings"} 1"#))
            #expect(after.contains(#"egress_scans_total{direction="outbound",outcome="clean"} 1"#))
            #expect(after.contains("egress_scan_duration_seconds_bucket"))
            #expect(after.contains("egress_scan_queue_wait_seconds_count"))
            // The pool's gauges, after every scan has settled: nothing queued, nothing busy, one worker up.
            #expect(after.contains("egress_scan_queue_depth 0"))
            #expect(after.contains("egress_scanners_busy 0"))
            #expect(after.contains("egress_scanners_live 1"))
        }
    }

    @Test("no decision within --supervise-timeout denies the request as expired")
    func expiry() async throws {
        try await Setup.run(superviseTimeout: .milliseconds(300)) { s in
            let result = try await s.agentPost().value
            #expect(result.stdout.hasSuffix("\n403"))
            #expect(result.stdout.contains("no operator decision in time"))
            #expect(s.upstream.requests.isEmpty)
            #expect(s.superviseStatuses() == ["held", "expired"])
            #expect(try await s.pending().isEmpty)
        }
    }

    @Test("a held request whose agent goes away disappears from /pending")
    func abandoned() async throws {
        try await Setup.run { s in
            let process = try ChildProcess(
                "/usr/bin/curl",
                [
                    "-sS", "--max-time", "30", "--proxy", s.proxy.proxyURL, "--cacert", s.proxy.caPath, "-d", Self.token,
                    "https://api.test/gone",
                ],
                environment: ["PATH": "/usr/bin:/bin"]
            )
            let held = try await s.waitForPending(1)
            #expect(held.count == 1)
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            #expect(try await s.waitForPending(0).isEmpty)
            #expect(s.superviseStatuses() == ["held", "abandoned"])
            #expect(s.upstream.requests.isEmpty)
        }
    }

    @Test("the operator page shows the held request, escaped, with approve and deny buttons")
    func operatorPage() async throws {
        try await Setup.run { s in
            let agent = s.agentPost("/it's&co")
            let id = try #require(try await s.waitForPending(1).first?["id"] as? String)
            let page = try await s.ask("GET", "/")
            #expect(page.status == 200)
            #expect(page.body.contains("<title>egress — held requests</title>"))
            #expect(page.body.contains(#"data-id="\#(id)" data-decision="approve""#))
            #expect(page.body.contains(#"data-id="\#(id)" data-decision="deny""#))
            #expect(page.body.contains("api.test"))
            #expect(page.body.contains("<code>/it&#39;s&amp;co</code>"))
            #expect(page.body.contains("GitHub token (classic)"))
            #expect(!page.body.contains(Self.token))
            _ = try await s.ask("POST", "/pending/\(id)/deny")
            #expect(try await agent.value.stdout.hasSuffix("\n403"))
            let after = try await s.ask("GET", "/")
            #expect(!after.body.contains(#"data-id="\#(id)""#))
        }
    }

    @Test("the unix socket is mode 0600, replaces a stale socket, refuses other files and is removed on stop")
    func socketFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("control.sock")
        let queue = SupervisionQueue()
        let first = try await ControlServer.start(address: .unix(path: path), token: nil, supervision: queue)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A second server replaces the (now stale) socket of the first.
        let second = try await ControlServer.start(address: .unix(path: path), token: nil, supervision: queue)
        await first.shutdown()
        await second.shutdown()
        #expect(!FileManager.default.fileExists(atPath: path))
        try "not a socket".write(toFile: path, atomically: true, encoding: .utf8)
        await #expect(throws: ControlServerError.self) {
            try await ControlServer.start(address: .unix(path: path), token: nil, supervision: queue)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a socket")
    }

    @Test("a token on the unix socket is required there too")
    func unixWithToken() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("control.sock")
        let server = try await ControlServer.start(
            address: .unix(path: path),
            token: ControlToken("tok"),
            supervision: SupervisionQueue()
        )
        let without = try await runProcess(
            "/usr/bin/curl",
            ["-s", "-w", "\n%{http_code}", "--unix-socket", path, "http://l/healthz"]
        )
        let with = try await runProcess(
            "/usr/bin/curl",
            [
                "-s", "-w", "\n%{http_code}", "--unix-socket", path, "-H", "Authorization: Bearer tok",
                "http://l/healthz",
            ]
        )
        await server.shutdown()
        #expect(Self.split(without).status == 401)
        #expect(Self.split(with).status == 200)
    }

    @Test("TCP control needs the token (Bearer or Basic), and the proxy refuses to reach it")
    func tcpControl() async throws {
        await #expect(throws: ControlServerError.self) {
            try await ControlServer.start(
                address: .tcp(ListenAddress(host: "127.0.0.1", port: 0)),
                token: nil,
                supervision: SupervisionQueue()
            )
        }
        try await Setup.run { s in
            let directory = try TemporaryDirectory()
            let tokenFile = directory.file("token")
            try "tcp-secret-123\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let tcp = try await ControlServer.start(
                address: .tcp(ListenAddress(host: "127.0.0.1", port: 0)),
                token: try ControlToken.load(path: tokenFile),
                supervision: s.proxy.supervision
            )
            let port = try #require(tcp.port)
            s.proxy.server.refuseProxying(toPort: port)
            let url = "http://127.0.0.1:\(port)/healthz"
            func get(_ extra: [String]) async throws -> ProcessResult {
                try await runProcess(
                    "/usr/bin/curl",
                    ["-sS", "-i", "--max-time", "30", "--noproxy", "*"] + extra + [url]
                )
            }
            let anonymous = try await get([])
            let bearer = try await get(["-H", "Authorization: Bearer tcp-secret-123"])
            let basic = try await get(["-u", "someone:tcp-secret-123"])
            let wrong = try await get(["-u", "someone:nope"])
            let throughProxy = try await runProcess(
                "/usr/bin/curl",
                ["-sS", "--max-time", "30", "--proxy", s.proxy.proxyURL, "-w", "\n%{http_code}", url]
            )
            let cliTable = try await runProcess(
                egressExecutable,
                ["supervise", "list", "--control", "127.0.0.1:\(port)", "--control-token-file", tokenFile]
            )
            let cliNoToken = try await runProcess(
                egressExecutable,
                ["supervise", "list", "--control", "127.0.0.1:\(port)"]
            )
            await tcp.shutdown()

            #expect(anonymous.stdout.hasPrefix("HTTP/1.1 401"))
            #expect(anonymous.stdout.lowercased().contains(#"www-authenticate: basic realm="egress""#))
            #expect(anonymous.stdout.hasSuffix(#"{"error":"unauthorized"}"# + "\n"))
            #expect(bearer.stdout.hasPrefix("HTTP/1.1 200"))
            #expect(bearer.stdout.hasSuffix(#"{"status":"ok"}"# + "\n"))
            #expect(basic.stdout.hasPrefix("HTTP/1.1 200"))
            #expect(wrong.stdout.hasPrefix("HTTP/1.1 401"))
            #expect(throughProxy.stdout.hasSuffix("\n403"))
            #expect(throughProxy.stdout.contains("requests to the proxy itself are not allowed"))
            #expect(!throughProxy.stdout.contains(#""status":"ok""#))
            #expect(cliTable.status == 0, "\(cliTable.stderr)")
            #expect(cliTable.stdout == "no held requests\n")
            #expect(cliNoToken.status == 1)
            #expect(
                cliNoToken.stderr
                    == "egress: --control 127.0.0.1:\(port): a TCP control listener requires --control-token-file\n"
            )
        }
    }

    @Test("supervise commands fail with one line when the control listener is unreachable")
    func unreachable() async throws {
        let directory = try TemporaryDirectory()
        let result = try await runProcess(egressExecutable, ["supervise", "list", "--state-dir", directory.path])
        #expect(result.status == 1)
        #expect(
            result.stderr.hasPrefix("egress: cannot reach the control listener at unix:\(directory.path)/control.sock")
        )
        #expect(result.stderr.split(separator: "\n").count == 1)
        let approve = try await runProcess(
            egressExecutable,
            ["supervise", "approve", "abc"],
            environment: ["EGRESS_STATE_DIR": directory.path]
        )
        #expect(approve.status == 1)
        #expect(approve.stderr.contains("unix:\(directory.path)/control.sock"))
    }

    @Test(
        "egress run rejects bad control flags",
        arguments: [
            (["--control", "127.0.0.1:9999"], "requires --control-token-file"),
            (["--control", "nowhere"], "expected unix:PATH or HOST:PORT"),
            (["--supervise-timeout", "0"], "--supervise-timeout 0"),
            (["--supervise-timeout", "soon"], "--supervise-timeout soon"),
            (["--control", "127.0.0.1:8080", "--control-token-file", "TOKEN"], "must not be the proxy listener"),
            (["--control-token-file", "EMPTY"], "the file is empty"),
        ]
    )
    func badControlFlags(flags: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let routes = directory.file("routes.yaml")
        try Self.routes.write(toFile: routes, atomically: true, encoding: .utf8)
        try "t0ken\n".write(toFile: directory.file("token"), atomically: true, encoding: .utf8)
        try "".write(toFile: directory.file("empty"), atomically: true, encoding: .utf8)
        let resolved = flags.map {
            $0 == "TOKEN" ? directory.file("token") : $0 == "EMPTY" ? directory.file("empty") : $0
        }
        let result = try await runProcess(
            egressExecutable,
            ["run", "--routes", routes, "--state-dir", directory.path, "--scanners", "1"] + resolved
        )
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("egress: "))
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("egress run serves the control socket by default, names it in the boot line, and removes it on SIGTERM")
    func runServesControl() async throws {
        let directory = try TemporaryDirectory()
        let routes = directory.file("routes.yaml")
        try Self.routes.write(toFile: routes, atomically: true, encoding: .utf8)
        let state = directory.file("state")
        let egress = try RunningEgress(
            arguments: [
                "run", "--routes", routes, "--listen", "127.0.0.1:0", "--state-dir", state, "--scanners", "1",
                "--supervise-timeout", "30",
            ],
            directory: directory
        )
        let boot = try await egress.bootEvent()
        let socket = state + "/control.sock"
        #expect(boot["control"] as? String == "unix:\(socket)")
        let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let list = try await runProcess(
            egressExecutable,
            ["supervise", "list"],
            environment: ["EGRESS_STATE_DIR": state]
        )
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "no held requests\n")
        #expect(await egress.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
