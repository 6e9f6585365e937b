import Foundation
import Testing

@testable import Frontend

#if canImport(Glibc)
import Glibc
#endif

/// The operator in the loop with the real binaries as a container runs them (uid 65534, no
/// capabilities): a held request is notified to a local receiver, approved for 10 minutes with the
/// CLI, the next identical request passes at once, another detector is still held, the standing
/// decision survives SIGHUP and (with --decisions-file) a restart, revoke ends it, the history says
/// who decided, and the audit log's chain verifies — and breaks where it is edited.
@Suite("Operator in the loop, end to end", .timeLimit(.minutes(4)))
struct OperatorLoopTests {
    static let github = "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"
    static let aws = "AKIAQYLPMN5HHHFPZAM2"
    static let routes = """
        log: 1
        routes:
          - host: api.test
            dlp: {inbound_detectors: false}
        """

    struct Running {
        let egress: RunningEgress
        let installed: InstalledEgress
        let state: String
        let port: Int

        func cli(_ arguments: [String]) async throws -> ProcessResult {
            try await runProcess(
                installed.egress,
                arguments + ["--control", "unix:\(state)/control.sock"],
                environment: ["PATH": "/usr/bin:/bin"]
            )
        }

        /// The agent's POST through the proxy; stdout ends with the status code.
        func post(_ body: String, path: String = "/upload") -> Task<ProcessResult, any Error> {
            let port = self.port
            let ca = CertificateAuthority.certificatePath(stateDirectory: state)
            return Task {
                try await runProcess(
                    "/usr/bin/curl",
                    ["-sS", "--max-time", "60", "--proxy", "http://127.0.0.1:\(port)", "--cacert", ca,
                     "-w", "\n%{http_code}", "-d", body, "https://api.test\(path)"],
                    environment: ["PATH": "/usr/bin:/bin"]
                )
            }
        }

        func pending() async throws -> [[String: Any]] {
            let list = try await cli(["supervise", "list", "--json"])
            return list.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
        }

        func waitForHeld() async throws -> [String: Any] {
            for _ in 0..<200 {
                if let first = try await pending().first { return first }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("no request was held: \(egress.stderrLines.suffix(5))")
        }

        func jsonLines(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await cli(arguments)
            guard result.status == 0 else { throw TestFailure("\(arguments): \(result.stderr)") }
            return result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
        }
    }

    static func start(
        in directory: TemporaryDirectory,
        pki: TestPKI,
        upstream: UpstreamServer,
        receiver: UpstreamServer,
        reusing installed: InstalledEgress? = nil
    ) async throws -> Running {
        let state = directory.file("state")
        let (egress, installed, _) = try await RunningEgress.unprivileged(
            in: directory,
            pki: pki,
            routes: routes,
            connectTo: [("api.test", upstream.port)],
            environment: ["EGRESS_NOTIFY_URL": "http://127.0.0.1:\(receiver.port)/hooks/ops-SECRETTOPIC"],
            extraArguments: [
                "--notify", "env:EGRESS_NOTIFY_URL", "--notify-format", "json",
                "--decisions-file", state + "/decisions.json", "--audit-log", state + "/audit.log",
            ],
            reusing: installed
        )
        return Running(egress: egress, installed: installed, state: state, port: try await egress.listenPort())
    }

    static func notifications(_ receiver: UpstreamServer) -> [[String: Any]] {
        receiver.requests.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body))) as? [String: Any] }
    }

    @Test("notify, approve --for 10m, pass at once, survive SIGHUP and restart, revoke, history, audit verify")
    func operatorLoop() async throws {
        try Unprivileged.requireRoot()
        let pki = try TestPKI()
        let upstream = try await UpstreamServer.start(tls: try pki.serverContext(for: "api.test"))
        let receiver = try await UpstreamServer.start { _ in .full(body: Array("ok".utf8)) }
        let directory = try TemporaryDirectory()
        var run = try await Self.start(in: directory, pki: pki, upstream: upstream, receiver: receiver)
        let commandLine = try String(contentsOfFile: "/proc/\(run.egress.process.pid)/cmdline", encoding: .utf8)
        #expect(commandLine.contains("env:EGRESS_NOTIFY_URL") && !commandLine.contains("SECRETTOPIC"))

        // 1. Held, and the operator is told.
        let first = run.post("token=\(Self.github)")
        let held = try await run.waitForHeld()
        let heldID = try #require(held["id"] as? String)
        for _ in 0..<100 where Self.notifications(receiver).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let told = try #require(Self.notifications(receiver).first)
        #expect(told["event"] as? String == "held")
        #expect(told["id"] as? String == heldID)
        #expect(told["host"] as? String == "api.test")
        #expect(told["labels"] as? [String] == ["GitHub token (classic)"])
        #expect((told["expires_in_s"] as? Int).map { $0 > 0 } == true)
        #expect(!receiver.requests.contains { $0.bodyText.contains(Self.github) })

        // 2. Approved for 10 minutes with the CLI: forwarded, and a standing decision made.
        let approve = try await run.cli(["supervise", "approve", heldID, "--for", "10m"])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(approve.stdout.contains("\(heldID) approved; standing decision "), "\(approve.stdout)")
        #expect(try await first.value.stdout.hasSuffix("\n200"))
        let rules = try await run.jsonLines(["supervise", "rules", "--json"])
        let ruleID = try #require(rules.first?["id"] as? String)
        #expect(rules.count == 1)
        #expect(rules.first?["host"] as? String == "api.test")
        #expect(rules.first?["detectors"] as? [String] == ["github_token_classic"])

        // 3. The same request again passes at once; another detector is still held, and denied.
        #expect(try await run.post("token=\(Self.github)").value.stdout.hasSuffix("\n200"))
        let other = run.post("key=\(Self.aws)")
        let otherHeld = try await run.waitForHeld()
        #expect(otherHeld["detectors"] as? [String] == ["aws_access_key_id"])
        let otherID = try #require(otherHeld["id"] as? String)
        #expect(try await run.cli(["supervise", "deny", otherID]).status == 0)
        #expect(try await other.value.stdout.hasSuffix("\n403"))

        // 4. SIGHUP keeps it; a restart with --decisions-file keeps it.
        kill(run.egress.process.pid, SIGHUP)
        for _ in 0..<100 where !run.egress.stderrLines.contains(where: { $0.contains(#""egress_reload""#) }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await run.jsonLines(["supervise", "rules", "--json"]).map { $0["id"] as? String } == [ruleID])
        #expect(await run.egress.terminate() == 0)
        let decisionsMode = try FileManager.default.attributesOfItem(atPath: run.state + "/decisions.json")
        #expect(decisionsMode[.posixPermissions] as? Int == 0o600)
        #expect((decisionsMode[.ownerAccountID] as? Int) == Int(Unprivileged.uid))
        run = try await Self.start(in: directory, pki: pki, upstream: upstream, receiver: receiver, reusing: run.installed)
        #expect(try await run.jsonLines(["supervise", "rules", "--json"]).map { $0["id"] as? String } == [ruleID])
        #expect(try await run.post("token=\(Self.github)").value.stdout.hasSuffix("\n200"))

        // 5. Revoked: held again (and left to the agent hanging up).
        #expect(try await run.cli(["supervise", "revoke", ruleID]).stdout == "\(ruleID) revoked\n")
        let unknown = try await run.cli(["supervise", "revoke", ruleID])
        #expect(unknown.status == 1 && unknown.stderr.contains("no standing decision"))
        let again = run.post("token=\(Self.github)")
        let againHeld = try await run.waitForHeld()
        let againID = try #require(againHeld["id"] as? String)
        #expect(try await run.cli(["supervise", "deny", againID, "--for", "90s"]).stdout.contains("denied; standing decision"))
        #expect(try await again.value.stdout.hasSuffix("\n403"))
        let refused = try await run.post("token=\(Self.github)").value.stdout
        #expect(refused.hasSuffix("\n403") && refused.contains("denied by standing decision"), "\(refused)")

        // 6. The history names who decided (the restart began a new history).
        let history = try await run.jsonLines(["supervise", "history", "--json"])
        let summary = history.map { "\($0["status"] as? String ?? "") \($0["by"] as? String ?? "-")" }
        #expect(summary == ["denied rule", "denied cli", "held -", "approved rule"], "\(summary)")
        let table = try await run.cli(["supervise", "history"])
        #expect(table.stdout.hasPrefix("TIME"))

        // 7. Rule hits are not notified; held requests and their outcomes are, in order.
        #expect(await run.egress.terminate() == 0)
        let events = Self.notifications(receiver).map { "\($0["event"] as? String ?? "") \($0["by"] as? String ?? "-")" }
        #expect(events == ["held -", "approved cli", "held -", "denied cli", "held -", "denied cli"], "\(events)")
        #expect(receiver.requests.allSatisfy { $0.head.uri == "/hooks/ops-SECRETTOPIC" })
        #expect(!run.egress.stderrLines.joined().contains("SECRETTOPIC"))

        // 8. The audit log (both runs) verifies, holds the decisions, no secret, and breaks where edited.
        let audit = run.state + "/audit.log"
        let verify = try await runProcess(run.installed.egress, ["audit", "verify", audit])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("chain intact"))
        let text = try String(contentsOfFile: audit, encoding: .utf8)
        #expect(text.components(separatedBy: #""event":"egress_boot""#).count == 3)
        #expect(text.contains(#""by":"rule","rule":"\#(ruleID)""#))
        #expect(!text.contains(Self.github) && !text.contains(Self.aws))
        var lines = text.split(separator: "\n").map(String.init)
        lines[4] = lines[4].replacingOccurrences(of: "api.test", with: "api.tesT")
        try (lines.joined(separator: "\n") + "\n").write(toFile: audit, atomically: true, encoding: .utf8)
        let broken = try await runProcess(run.installed.egress, ["audit", "verify", audit])
        #expect(broken.status == 1)
        #expect(broken.stderr.hasPrefix("egress: broken chain at \(audit):6: prev is not the SHA-256"), "\(broken.stderr)")

        await receiver.shutdown()
        await upstream.shutdown()
    }

    @Test(
        "bad operator flags stop start-up with one clear line",
        arguments: [
            (["--notify", "https://api.test/hook"], "route 1 (host api.test) lets the agent reach it"),
            (["--notify", "ftp://x/"], "expected an http:// or https:// URL"),
            (["--notify-format", "teams"], "expected json, slack or ntfy"),
            (["--notify", "env:EGRESS_TEST_NO_SUCH_VARIABLE"], "EGRESS_TEST_NO_SUCH_VARIABLE is unset or empty"),
            (["--audit-log", "/proc/egress-nope/audit.log"], "--audit-log /proc/egress-nope/audit.log: cannot open"),
            (["--audit-log-max-bytes", "10"], "--audit-log-max-bytes 10: expected a whole number"),
            (["--history", "0"], "--history 0: expected a whole number"),
            (["--decisions-file", "DIR"], "not a regular file"),
        ]
    )
    func badFlags(flags: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        try Self.routes.write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            ["run", "--routes", directory.file("routes.yaml"), "--state-dir", directory.file("state"), "--scanners", "1"]
                + flags.map { $0 == "DIR" ? directory.path : $0 }
        )
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("egress: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("with a TCP control listener messages link the page; a reload that would let the agent reach --notify is rejected")
    func pageLinkAndReload() async throws {
        let receiver = try await UpstreamServer.start { _ in .full(body: []) }
        let upstream = try await UpstreamServer.start()
        let directory = try TemporaryDirectory()
        let routesPath = directory.file("routes.yaml")
        let routes = { (extra: String) in
            "log: 1\nroutes:\n  - host: \"api.test:\(upstream.port)\"\n    dlp: {inbound_detectors: false}\n" + extra
        }
        try routes("").write(toFile: routesPath, atomically: true, encoding: .utf8)
        try "operator-token\n".write(toFile: directory.file("token"), atomically: true, encoding: .utf8)
        let controlPort = try freeLoopbackPort()
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", routesPath, "--listen", "127.0.0.1:0", "--state-dir", directory.file("state"),
                "--scanners", "1", "--allow-private-upstreams",
                "--connect-to", "api.test:\(upstream.port):127.0.0.1:\(upstream.port)",
                "--control", "127.0.0.1:\(controlPort)", "--control-token-file", directory.file("token"),
                "--notify", "http://127.0.0.1:\(receiver.port)/n", "--notify-format", "slack",
            ],
            directory: directory
        )
        let port = try await running.listenPort()
        let boot = try await running.bootEvent()
        #expect(boot["notify"] as? [String] == ["http://127.0.0.1:\(receiver.port)"])
        #expect(boot["audit_log"] is NSNull)
        let agent = Task {
            try await runProcess(
                "/usr/bin/curl",
                ["-sS", "--max-time", "30", "-x", "http://127.0.0.1:\(port)", "-w", "\n%{http_code}",
                 "-d", "t=\(Self.github)", "http://api.test:\(upstream.port)/p"]
            )
        }
        for _ in 0..<200 where receiver.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let text = try #require(
            (try? JSONSerialization.jsonObject(with: Data(receiver.requests.first?.body ?? []))) as? [String: String]
        )["text"]
        #expect(text?.contains("<http://127.0.0.1:\(controlPort)/|Open the operator page>") == true, "\(text ?? "")")

        // A route for the receiver's host would let the agent post into the operator's channel.
        try routes("  - host: \"127.0.0.1:\(receiver.port)\"\n").write(toFile: routesPath, atomically: true, encoding: .utf8)
        kill(running.process.pid, SIGHUP)
        for _ in 0..<100 where running.events("egress_reload").isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let reload = try #require(running.events("egress_reload").first)
        #expect(reload["status"] as? String == "rejected")
        #expect((reload["reason"] as? String)?.contains("lets the agent reach it") == true, "\(reload)")
        // Stopping refuses the held request at once (nobody can decide once the control listener is gone).
        #expect(await running.terminate() == 0)
        let refused = try await agent.value.stdout
        #expect(refused.hasSuffix("\n503") && refused.contains("egress is stopping"), "\(refused)")
        await receiver.shutdown()
        await upstream.shutdown()
    }
}

/// A loopback TCP port nothing listens on right now (bound, read and released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
