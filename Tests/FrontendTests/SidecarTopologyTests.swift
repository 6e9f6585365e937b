import EgressTestSupport
import Crypto
import Foundation
import Testing

@testable import Frontend

#if canImport(Glibc)
import Glibc
#endif

/// The sidecar deployment, proven with network namespaces (README, "Deploying as a sidecar"): the agent can reach
/// nothing but the proxy, and through it exactly what the routes allow, with the proxy installed by
/// scripts/install.sh and running as an unprivileged user on 0.0.0.0.
@Suite("sidecar topology in network namespaces", .serialized, .timeLimit(.minutes(4)))
struct SidecarTopologyTests {
    static let secret = "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"
    static let proxy = "http://\(NetworkTopology.sidecarInside):8080"

    @Test("the agent reaches only the proxy; curl, git and pip work through it with the exported CA")
    func agentIsConfined() async throws {
        try Unprivileged.requireRoot()
        let topology = NetworkTopology()
        try await topology.create()
        let directory = try TemporaryDirectory()
        var processes: [ChildProcess] = []
        var proxy: RunningEgress?
        do {
            try await exercise(topology, directory: directory, processes: &processes, proxy: &proxy)
        } catch {
            Issue.record(error)
        }
        if let proxy { _ = await proxy.terminate() }
        for process in processes where process.isRunning {
            process.signal(SIGTERM)
            for _ in 0..<20 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            process.signal(SIGKILL)
            _ = await process.waitForExit()
        }
        await topology.destroy()
    }

    private func exercise(
        _ topology: NetworkTopology,
        directory: TemporaryDirectory,
        processes: inout [ChildProcess],
        proxy: inout RunningEgress?
    ) async throws {
        try Unprivileged.makeReadable(directory.path)
        let installed = try await InstalledEgress.install(into: directory)
        let state = directory.file("state")
        try Unprivileged.makeOwnedDirectory(state)
        let python = try await Self.python()

        // The upstream: an HTTPS origin (echo, git http-backend, a package index) in its own namespace.
        let pki = try TestPKI()
        try pki.writeRoot(to: directory.file("upstream-ca.pem"))
        let leaf = try pki.authority.issueLeaf(for: "upstream.test")
        try leaf.certificate.serializeAsPEM().pemString.write(
            toFile: directory.file("upstream-cert.pem"),
            atomically: true,
            encoding: .utf8
        )
        try P256.Signing.PrivateKey(derRepresentation: leaf.privateKeyDER).pemRepresentation.write(
            toFile: directory.file("upstream-key.pem"),
            atomically: true,
            encoding: .utf8
        )
        let gitRoot = try await GitThroughProxyTests.makeRepository(in: directory)
        let upstreamLog = directory.file("upstream.jsonl")
        let ready = directory.file("upstream.ready")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Topology/upstream.py").path
        let upstream = try ChildProcess(
            NetworkTopology.ip,
            [
                "netns", "exec", topology.upstream, python, script, "--address", NetworkTopology.upstreamAddress,
                "--cert", directory.file("upstream-cert.pem"), "--key", directory.file("upstream-key.pem"),
                "--git-root", gitRoot, "--log", upstreamLog, "--ready", ready,
            ],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        processes.append(upstream)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: ready) {
            try await Task.sleep(for: .milliseconds(100))
        }
        guard FileManager.default.fileExists(atPath: ready) else { throw TestFailure("the upstream did not start") }

        // The sidecar: installed binaries, uid 65534, listening on every address of its namespace.
        try "operator-secret\n".write(toFile: directory.file("control-token"), atomically: true, encoding: .utf8)
        try """
        log: 1
        routes:
          - host: upstream.test
            auth_scheme: bearer
            token_env: EGRESS_TOKEN_0
            git: {fetch: true}
            dlp: {outbound_on_match: block}
        """.write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "0.0.0.0:8080", "--state-dir", state,
                "--scanners", "2", "--upstream-ca", directory.file("upstream-ca.pem"),
                // The test's upstream sits in a documentation range, which the SSRF guard refuses.
                "--allow-private-upstreams",
                "--connect-to", "upstream.test:443:\(NetworkTopology.upstreamAddress):443",
                "--control", "\(NetworkTopology.sidecarOutside):9090",
                "--control-token-file", directory.file("control-token"),
            ],
            directory: directory,
            executable: installed.egress,
            launcher: topology.exec(in: topology.sidecar) + Unprivileged.launcher,
            environment: ["PATH": "/usr/bin:/bin", "EGRESS_TOKEN_0": "real-token"]
        )
        proxy = running
        let boot = try await running.bootEvent()
        #expect(boot["listen"] as? String == "0.0.0.0:8080")
        let proxyStatus = try processStatus(running.process.pid)
        #expect(proxyStatus["Uid"]?.hasPrefix("65534\t65534") == true)
        #expect(proxyStatus["CapEff"] == "0000000000000000")
        #expect(running.childPIDs.count == 2)
        for worker in running.childPIDs {
            #expect(try processStatus(worker)["Seccomp"] == "2")
        }
        let forwarding = try await topology.run(
            in: topology.sidecar,
            ["/bin/cat", "/proc/sys/net/ipv4/ip_forward"],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(forwarding.stdout == "0\n", "the sidecar must not route between its links")

        // The agent trusts the CA that `egress ca export` prints, as an operator hands it over.
        let export = try await topology.run(
            in: topology.sidecar,
            Unprivileged.launcher + [installed.egress, "ca", "export", "--state-dir", state],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(export.status == 0, "\(export.stderr)")
        let agentCA = directory.file("agent-ca.pem")
        try export.stdout.write(toFile: agentCA, atomically: true, encoding: .utf8)
        let home = directory.file("agent-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let agentEnvironment = ["PATH": "/usr/bin:/bin", "HOME": home]
        let agent = { (arguments: [String]) in
            try await topology.run(in: topology.agent, arguments, environment: agentEnvironment)
        }
        let curl = ["/usr/bin/curl", "-sS", "--max-time", "20"]
        let viaProxy = curl + ["--proxy", Self.proxy, "--cacert", agentCA]

        // No way around the proxy: no route to the upstream, and none through the sidecar either.
        let direct = try await agent(curl + ["--max-time", "3", "-k", "https://\(NetworkTopology.upstreamAddress)/direct"])
        #expect(direct.status != 0)
        let route = try await runProcess(
            NetworkTopology.ip,
            ["-n", topology.agent, "route", "add", "198.51.100.0/24", "via", NetworkTopology.sidecarInside]
        )
        #expect(route.status == 0, "\(route.stderr)")
        let routed = try await agent(curl + ["--max-time", "3", "-k", "https://\(NetworkTopology.upstreamAddress)/direct"])
        #expect(routed.status != 0, "the sidecar forwarded the agent's packets")
        _ = try await runProcess(NetworkTopology.ip, ["-n", topology.agent, "route", "del", "198.51.100.0/24"])

        // No DNS: the resolver the agent is given (the sidecar) does not answer.
        let resolve = try await agent([python, "-c", "import socket; socket.getaddrinfo('upstream.test', 443)"])
        #expect(resolve.status != 0)
        #expect(resolve.stderr.contains("gaierror"))

        // curl: allowed, with the operator's token injected in place of the agent's.
        let echo = try await agent(
            viaProxy + ["-H", "Authorization: Bearer agent-fake", "-w", "\n%{http_code}", "https://upstream.test/echo"]
        )
        #expect(echo.stdout.hasSuffix("\n200"), "\(echo.stdout) \(echo.stderr)")
        #expect(echo.stdout.contains(#""authorization": "Bearer real-token""#))

        // git clone through the proxy.
        let clone = try await agent([
            "/usr/bin/git", "-c", "http.proxy=\(Self.proxy)", "-c", "http.sslCAInfo=\(agentCA)", "clone", "-q",
            "https://upstream.test/git/repo.git", directory.file("clone"),
        ])
        #expect(clone.status == 0, "\(clone.stderr)")
        #expect((try? String(contentsOfFile: directory.file("clone/README"), encoding: .utf8)) == "hello through the proxy\n")

        // pip install from the index through the proxy, no config files or mirrors of this machine.
        let pip = try await topology.run(
            in: topology.agent,
            [
                python, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-input",
                "--index-url", "https://upstream.test/simple/", "--proxy", Self.proxy, "--cert", agentCA,
                "--target", directory.file("site"), "demo-pkg",
            ],
            environment: agentEnvironment.merging(["PIP_CONFIG_FILE": "/dev/null"]) { $1 }
        )
        #expect(pip.status == 0, "\(pip.stdout) \(pip.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.file("site/demo_pkg/__init__.py")))

        // A host the routes do not name is refused at the CONNECT.
        let other = try await agent(viaProxy + ["-o", "/dev/null", "-w", "%{http_connect}", "https://other.test/"])
        #expect(other.stdout == "403")

        // A secret leaving is blocked by the sandboxed workers.
        let leak = try await agent(viaProxy + ["-d", "key=\(Self.secret)", "-w", "\n%{http_code}", "https://upstream.test/echo"])
        #expect(leak.stdout.hasSuffix("\n403"), "\(leak.stdout)")

        // The control listener: up on the sidecar's outside address, unreachable for the agent,
        // directly or through the proxy.
        let fromSidecar = try await topology.run(
            in: topology.sidecar,
            curl + ["-H", "Authorization: Bearer operator-secret", "http://\(NetworkTopology.sidecarOutside):9090/healthz"],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(fromSidecar.stdout.contains(#""status":"ok""#), "\(fromSidecar.stdout) \(fromSidecar.stderr)")
        let controlDirect = try await agent(curl + ["--max-time", "3", "http://\(NetworkTopology.sidecarOutside):9090/healthz"])
        #expect(controlDirect.status != 0)
        let controlProxied = try await agent(
            viaProxy + ["-o", "/dev/null", "-w", "%{http_code}", "http://\(NetworkTopology.sidecarOutside):9090/healthz"]
        )
        #expect(controlProxied.stdout == "403")

        // What the upstream saw: the proxy's requests only, never the agent's credential or secret.
        let seen = ((try? String(contentsOfFile: upstreamLog, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(seen.contains { $0.contains("/echo") })
        #expect(seen.contains { $0.contains("git-upload-pack") })
        #expect(seen.contains { $0.contains("/files/demo_pkg") })
        #expect(!seen.contains { $0.contains("/direct") })
        #expect(!seen.contains { $0.contains("agent-fake") })
        #expect(!seen.contains { $0.contains(Self.secret) })
        #expect(seen.allSatisfy { $0.contains(#""authorization": "Bearer real-token""#) })
        #expect(await running.terminate() == 0)
        proxy = nil
    }

    /// The real interpreter behind `python3` on PATH (not a version-manager shim).
    static func python() async throws -> String {
        let found = try await runProcess(
            "/usr/bin/env",
            ["python3", "-c", "import sys; print(sys.executable)"],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        )
        let path = found.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard found.status == 0, !path.isEmpty else { throw TestFailure("python3 not found: \(found.stderr)") }
        return path
    }
}
