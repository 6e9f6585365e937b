import Foundation
import Testing

@testable import Frontend

/// README, "Fault-injection tests": while workers crash, hang, break the sandbox or talk garbage, no unscanned body
/// gets through, the proxy keeps serving, and the workers come back.
@Suite("Fault injection through the proxy", .timeLimit(.minutes(3)))
struct FaultInjectionThroughProxyTests {
    static let routes = """
        log: 1
        routes:
          - host: "api.test"
            dlp: {outbound_on_match: block, inbound_on_match: block}
          - host: "open.test"
            dlp: {outbound_detectors: false, inbound_detectors: false}
        """

    /// The upstream answers with the fault marker for /fault/<kind>, clean text otherwise.
    static func responder(_ request: RecordedRequest) -> UpstreamReply {
        let path = request.head.uri
        let text = path.hasPrefix("/fault/") ? "EGRESS-FAULT:" + path.dropFirst("/fault/".count) : "clean \(path)"
        return .full(headers: [("content-type", "text/plain")], body: Array(text.utf8))
    }

    /// Two upstreams (api.test scanned, open.test not) behind a proxy with two fault-injecting
    /// workers and a short scan deadline.
    static func withFaultyProxy(_ body: (ProxyHarness) async throws -> Void) async throws {
        let pki = try TestPKI()
        let scanned = try await UpstreamServer.start(tls: try pki.serverContext(for: "api.test"), responder: responder)
        let open = try await UpstreamServer.start(tls: try pki.serverContext(for: "open.test"), responder: responder)
        do {
            let proxy = try await ProxyHarness.start(
                routes: routes,
                connectTo: [("api.test", 443, scanned.port), ("open.test", 443, open.port)],
                trusting: pki,
                scanners: 2,
                scannerExecutable: siblingExecutable("ScannerFaultsWorker"),
                scanTimeout: .seconds(1)
            )
            do {
                try await body(proxy)
            } catch {
                await proxy.shutdown()
                throw error
            }
            await proxy.shutdown()
        } catch {
            await scanned.shutdown()
            await open.shutdown()
            throw error
        }
        await scanned.shutdown()
        await open.shutdown()
    }

    /// Workers the pool lost: crashed, killed for hanging, or killed for talking garbage.
    static func failureEvents(_ proxy: ProxyHarness) -> [[String: Any]] {
        proxy.events.events("egress_scanner").filter {
            ["crashed", "hung", "protocol_error"].contains($0["status"] as? String ?? "")
        }
    }

    static func scannerEvents(_ proxy: ProxyHarness, status: String) -> [[String: Any]] {
        proxy.events.events("egress_scanner").filter { $0["status"] as? String == status }
    }

    static func waitForRestarts(_ proxy: ProxyHarness, count: Int) async throws {
        for _ in 0..<100 where scannerEvents(proxy, status: "restarted").count < count {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test(
        "a body that kills two workers is refused, the proxy keeps serving, and the workers come back",
        arguments: [
            ("crash", "crashed", "SIGSEGV"), ("syscall", "crashed", "SIGSYS"), ("hang", "hung", nil),
            ("garbage", "protocol_error", nil), ("lie", "protocol_error", nil), ("ready", "protocol_error", nil),
            ("oom", nil, nil),
        ]
    )
    func poisonBody(kind: String, status: String?, signal: String?) async throws {
        try await Self.withFaultyProxy { proxy in
            let refused = try await curl(proxy, ["-w", "\n%{http_code}", "https://api.test/fault/\(kind)"])
            #expect(refused.stdout.hasSuffix("503"), "\(refused.stdout)")
            #expect(refused.stdout.contains("egress DLP: scanner failed on this body"))
            #expect(!refused.stdout.contains("EGRESS-FAULT"), "the unscanned response reached the agent")
            // Both workers the body reached were lost, and each loss is reported. The scan is
            // retried (and refused) as soon as a worker's socket closes; the report waits for the
            // reap, which knows how the process ended.
            for _ in 0..<100 where Self.failureEvents(proxy).count < 2 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(Self.failureEvents(proxy).count == 2, "\(Self.failureEvents(proxy))")
            // Filling 1 GiB may outlast the 1 s deadline: an OOM worker is either crashed or hung.
            let events = status.map { Self.scannerEvents(proxy, status: $0) } ?? Self.failureEvents(proxy)
            #expect(!events.isEmpty)
            if let signal {
                #expect(events.allSatisfy { ($0["detail"] as? String)?.contains(signal) == true }, "\(events)")
            }
            // Routes without DLP flow while the workers restart; then scanning works again.
            let open = try await curl(proxy, ["https://open.test/x"])
            #expect(open.stdout == "clean /x")
            try await Self.waitForRestarts(proxy, count: 2)
            let clean = try await curl(proxy, ["https://api.test/after"])
            #expect(clean.stdout == "clean /after")
            let metrics = proxy.metrics.exposition(heldRequests: 0)
            #expect(metrics.contains("egress_scanner_restarts_total 2"), "\(metrics)")
            #expect(metrics.contains(#"egress_scans_total{direction="inbound",outcome="failed"} 1"#))
        }
    }

    @Test("a request body that kills two workers is refused and never reaches the upstream")
    func outboundPoisonBody() async throws {
        try await Self.withFaultyProxy { proxy in
            let refused = try await curl(
                proxy,
                ["-w", "\n%{http_code}", "-d", "EGRESS-FAULT:crash", "https://api.test/upload"]
            )
            #expect(refused.stdout.hasSuffix("503"))
            #expect(refused.stdout.contains("egress DLP: scanner failed on this body"))
            #expect(proxy.events.events("egress_request").isEmpty)
            try await Self.waitForRestarts(proxy, count: 2)
            let clean = try await curl(proxy, ["-d", "fine", "https://api.test/upload"])
            #expect(clean.stdout == "clean /upload")
        }
    }

    @Test("the pool's workers run under the seccomp filter with no new privileges")
    func workersAreSandboxed() async throws {
        try await Self.withFaultyProxy { proxy in
            let clean = try await curl(proxy, ["https://api.test/one"])
            #expect(clean.stdout == "clean /one")
            let pids = try await proxy.server.services.scanner!.workerPIDs().get()
            #expect(pids.count == 2)
            for pid in pids {
                let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                #expect(status.contains("Seccomp:\t2"))
                #expect(status.contains("NoNewPrivs:\t1"))
            }
        }
    }

    @Test("a pathological input hits the real PCRE2 limits: refused, and the worker lives on")
    func regexLimit() async throws {
        let routes = """
            log: 1
            routes:
              - host: "api.test"
                dlp: {outbound_detectors: [fault_catastrophic_backtracking], outbound_on_match: block, inbound_detectors: false}
            """
        try await Scenario.run(routes: routes, scanners: 1, scannerExecutable: siblingExecutable("ScannerFaultsWorker"))
        { s in
            let body = String(repeating: "a", count: 64) + "!"
            let refused = try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", body, "https://api.test/x"])
            #expect(refused.stdout.hasSuffix("403"))
            #expect(refused.stdout.contains("egress DLP: scan limit exceeded on this body"))
            #expect(s.upstream.requests.isEmpty)
            #expect(s.proxy.events.events("egress_scanner").isEmpty)
            let fine = try await curl(s.proxy, ["-d", "b", "https://api.test/x"])
            #expect(Scenario.echoed(fine)?["body"] as? String == "b")
        }
    }

    @Test("after crashes and restarts the proxy holds no extra descriptors and leaves no zombies")
    func noLeaks() async throws {
        let upstream = try await UpstreamServer.start(responder: Self.responder)
        let directory = try TemporaryDirectory()
        try """
        routes:
          - host: "api.test:\(upstream.port)"
            dlp: {outbound_detectors: false, inbound_on_match: block}
        """.write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0",
                "--state-dir", directory.file("state"), "--scanners", "2", "--fault-injection",
                "--scanner-path", siblingExecutable("ScannerFaultsWorker"), "--allow-private-upstreams",
                "--connect-to", "api.test:\(upstream.port):127.0.0.1:\(upstream.port)",
            ],
            directory: directory
        )
        let boot = try await running.bootEvent()
        #expect(boot["fault_injection"] as? Bool == true)
        let port = try #require((boot["listen"] as? String)?.split(separator: ":").last.flatMap { Int($0) })
        let pid = running.process.pid
        let get = { (path: String) in
            try await runProcess(
                "/usr/bin/curl",
                ["-sS", "-x", "http://127.0.0.1:\(port)", "http://api.test:\(upstream.port)\(path)"]
            )
        }
        #expect(try await get("/warm").stdout == "clean /warm")
        let descriptorsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        for round in 0..<3 {
            _ = try await get("/fault/crash")
            // Both workers died on that body; wait for them to come back.
            var back = false
            for _ in 0..<100 {
                if try await get("/ok\(round)").stdout == "clean /ok\(round)" {
                    back = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(back)
        }
        let descriptorsAfter = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        #expect(
            descriptorsAfter <= descriptorsBefore + 2,
            "descriptors grew from \(descriptorsBefore) to \(descriptorsAfter)"
        )
        // The second worker may still be in its backoff; give it time to come back.
        var children = try Self.children(of: pid)
        for _ in 0..<100 where children.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            children = try Self.children(of: pid)
        }
        #expect(children.count == 2, "children: \(children)")
        #expect(children.allSatisfy { $0.state != "Z" }, "zombies: \(children)")
        _ = await running.terminate()
        await upstream.shutdown()
    }

    /// Direct children of `pid` with their process state letter, from /proc.
    static func children(of pid: Int32) throws -> [(pid: Int32, state: String)] {
        var result: [(Int32, String)] = []
        for tid in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            let list = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8)) ?? ""
            for child in list.split(separator: " ").compactMap({ Int32($0) }) {
                let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
                // The state letter follows the ")" that closes the command name.
                let state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "?"
                result.append((child, state))
            }
        }
        return result
    }

    @Test("a slow scan inside the deadline is not a failure")
    func slowButInTime() async throws {
        try await Self.withFaultyProxy { proxy in
            let result = try await curl(proxy, ["-w", "\n%{http_code}", "https://api.test/fault/slow:200"])
            #expect(result.stdout.hasSuffix("200"))
            #expect(Self.scannerEvents(proxy, status: "hung").isEmpty)
        }
    }

    @Test("the production proxy refuses a fault-injection worker")
    func faultWorkerRefusedWithoutFlag() async throws {
        let directory = try TemporaryDirectory()
        try "routes: []\n".write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0",
                "--state-dir", directory.file("state"), "--scanners", "1",
                "--scanner-path", siblingExecutable("ScannerFaultsWorker"),
            ]
        )
        #expect(result.status == 1)
        #expect(result.stderr.contains("fault-injection"))
    }

    @Test("workers that cannot start stop the proxy from starting, with a clear error")
    func brokenWorker() async throws {
        let directory = try TemporaryDirectory()
        try "routes: []\n".write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0",
                "--state-dir", directory.file("state"), "--scanners", "1", "--scanner-path", "/bin/false",
            ]
        )
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("egress: "))
        #expect(result.stderr.contains("scanner workers did not start"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
