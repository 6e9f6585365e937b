import Foundation
import Testing

@testable import Frontend

#if canImport(Glibc)
import Glibc
#endif

/// The real `egress` executable, as an operator runs it.
@Suite("egress command line", .timeLimit(.minutes(2)))
struct CommandLineTests {
    @Test("check prints a summary for a valid file and one error line for a bad one")
    func check() async throws {
        let directory = try TemporaryDirectory()
        try "log: 1\nroutes:\n  - host: api.test\n".write(
            toFile: directory.file("good.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try "log: true\nroutes: []\n".write(toFile: directory.file("bad.yaml"), atomically: true, encoding: .utf8)
        let good = try await runProcess(egressExecutable, ["check", "--routes", directory.file("good.yaml")])
        #expect(good.status == 0)
        #expect(good.stdout.contains("api.test"))
        let bad = try await runProcess(egressExecutable, ["check", "--routes", directory.file("bad.yaml")])
        #expect(bad.status == 1)
        let lines = bad.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("bad.yaml") == true)
        #expect(lines.first?.contains("log") == true)
    }

    @Test("check knows the detector catalog")
    func checkDetectorNames() async throws {
        let directory = try TemporaryDirectory()
        try
            "routes:\n  - host: api.test\n    dlp:\n      outbound_detectors: [github_token_classic, no_such_detector]\n"
            .write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(egressExecutable, ["check", "--routes", directory.file("routes.yaml")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("routes[0].dlp.outbound_detectors"))
        #expect(result.stderr.contains("no_such_detector"))
    }

    @Test("run refuses to start without a token, naming the variable and not printing values")
    func missingToken() async throws {
        let directory = try TemporaryDirectory()
        try "routes:\n  - host: api.test\n    auth_scheme: bearer\n    token_env: EGRESS_TOKEN_0\n"
            .write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            ["run", "--routes", directory.file("routes.yaml"), "--state-dir", directory.file("state")],
            environment: ["OTHER_SECRET": "do-not-print"]
        )
        #expect(result.status == 1)
        #expect(result.stderr.contains("EGRESS_TOKEN_0"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!result.stderr.contains("do-not-print"))
    }

    @Test(
        "bad flags are one clear error line and exit status 1",
        arguments: [
            ["--log", "3"], ["--log", "true"], ["--listen", "nonsense"], ["--connect-to", "a:1:b"], ["--bogus"],
            ["--request-head-timeout", "0"], ["--idle-timeout", "-1"], ["--websocket-idle-timeout", "0"],
            ["--client-hello-timeout", "x"],
            ["--tls-handshake-timeout", "1e9"], ["--max-connections", "0"], ["--max-held-bytes", "1.5"],
            ["--max-held-requests", "-3"], ["--scan-timeout", "601"], ["--scanner-queue", "0"],
            ["--scanner-queue", "17"], ["--scanner-queue", "two"],
        ]
    )
    func badFlags(flags: [String]) async throws {
        let directory = try TemporaryDirectory()
        try "routes: []\n".write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            ["run", "--routes", directory.file("routes.yaml"), "--state-dir", directory.file("state")] + flags
        )
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("egress: "))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test("at level 0 stderr carries only the boot line; SIGTERM exits 0")
    func levelZeroIsQuiet() async throws {
        let directory = try TemporaryDirectory()
        try "routes:\n  - host: api.test\n".write(
            toFile: directory.file("routes.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0",
                "--state-dir", directory.file("state"),
            ],
            directory: directory
        )
        let boot = try await running.bootEvent()
        #expect(boot["log"] as? String == "off")
        #expect(boot["routes"] as? Int == 1)
        let port = try #require((boot["listen"] as? String)?.split(separator: ":").last.flatMap { Int($0) })
        let refused = try await runProcess(
            "/usr/bin/curl",
            ["-sS", "-x", "http://127.0.0.1:\(port)", "-w", "%{http_code}", "-o", "/dev/null", "http://evil.test/"]
        )
        #expect(refused.stdout == "403")
        let status = await running.terminate()
        #expect(status == 0)
        #expect(running.stderrLines.count == 1)
    }

    @Test("SIGHUP puts a new routes file in force; a bad one keeps the running routes and says why")
    func reloadOnSIGHUP() async throws {
        let directory = try TemporaryDirectory()
        let routesPath = directory.file("routes.yaml")
        let allow = { (host: String) in
            "log: 1\nroutes:\n  - host: \"\(host)\"\n    dlp: {outbound_detectors: false, inbound_detectors: false}\n"
        }
        try allow("one.test").write(toFile: routesPath, atomically: true, encoding: .utf8)
        let running = try RunningEgress(
            // Both names dial a closed loopback port: nothing is resolved through DNS.
            arguments: ["run", "--routes", routesPath, "--listen", "127.0.0.1:0", "--state-dir", directory.file("state"),
                        "--scanners", "1", "--allow-private-upstreams",
                        "--connect-to", "one.test:80:127.0.0.1:9", "--connect-to", "two.test:80:127.0.0.1:9"],
            directory: directory
        )
        let boot = try await running.bootEvent()
        let port = try #require((boot["listen"] as? String)?.split(separator: ":").last.flatMap { Int($0) })
        let status = { (host: String) in
            try await runProcess("/usr/bin/curl", ["-sS", "-x", "http://127.0.0.1:\(port)", "-o", "/dev/null",
                                                    "-w", "%{http_code}", "http://\(host)/"]).stdout
        }
        // one.test is allowed (its upstream refuses the connection: 502), two.test is not (403).
        #expect(try await status("two.test") == "403")
        try allow("two.test").write(toFile: routesPath, atomically: true, encoding: .utf8)
        kill(running.process.pid, SIGHUP)
        var reloaded = false
        for _ in 0..<100 {
            if try await status("two.test") != "403" { reloaded = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(reloaded)
        #expect(try await status("one.test") == "403")
        try "log: 1\nroutes:\n  - host: \"two.test\"\n    bogus: 1\n".write(toFile: routesPath, atomically: true, encoding: .utf8)
        kill(running.process.pid, SIGHUP)
        for _ in 0..<100 where !running.stderrLines.contains(where: { $0.contains("rejected") }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await status("two.test") != "403")
        let rejected = try #require(running.stderrLines.first { $0.contains(#""event":"egress_reload""#) && $0.contains("rejected") })
        #expect(rejected.contains("routes[0].bogus"))
        #expect(await running.terminate() == 0)
    }

    @Test("--log overrides the file's level")
    func logOverride() async throws {
        let directory = try TemporaryDirectory()
        try "routes: []\n".write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0", "--log", "1",
                "--state-dir", directory.file("state"),
            ],
            directory: directory
        )
        let boot = try await running.bootEvent()
        #expect(boot["log"] as? String == "blocks")
        let port = try #require((boot["listen"] as? String)?.split(separator: ":").last.flatMap { Int($0) })
        _ = try await runProcess(
            "/usr/bin/curl",
            ["-sS", "-x", "http://127.0.0.1:\(port)", "-o", "/dev/null", "http://evil.test/"]
        )
        for _ in 0..<50 where running.stderrLines.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        _ = await running.terminate()
        #expect(running.stderrLines.count == 2)
        #expect(running.stderrLines.last?.contains(#""event":"egress_block""#) == true)
    }

    @Test("ca init creates once, path and export reuse it")
    func caCommands() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("state")
        let first = try await runProcess(egressExecutable, ["ca", "init", "--state-dir", state])
        #expect(first.status == 0)
        #expect(first.stdout.hasPrefix("created "))
        let second = try await runProcess(egressExecutable, ["ca", "init", "--state-dir", state])
        #expect(second.stdout.hasPrefix("exists "))
        let path = try await runProcess(egressExecutable, ["ca", "path"], environment: ["EGRESS_STATE_DIR": state])
        #expect(path.stdout == CertificateAuthority.certificatePath(stateDirectory: state) + "\n")
        let export = try await runProcess(egressExecutable, ["ca", "export", "--state-dir", state])
        #expect(export.stdout == (try String(contentsOfFile: state + "/ca-cert.pem", encoding: .utf8)))
        let attributes = try FileManager.default.attributesOfItem(atPath: state + "/ca-key.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}
