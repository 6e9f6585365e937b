import Foundation
import Testing

@testable import Frontend

#if canImport(Glibc)
import Glibc
#endif

/// The real `egress` binary as a container runs it: uid 65534, no capabilities (README, "Deploying as a sidecar").
@Suite("egress as an unprivileged user", .timeLimit(.minutes(3)))
struct UnprivilegedTests {
    static let secret = "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"

    @Test("serves a TLS tunnel (HTTP/2 on both legs), scans in sandboxed workers and answers on its control socket as nobody")
    func servesAsNobody() async throws {
        try Unprivileged.requireRoot()
        let pki = try TestPKI()
        let upstream = try await UpstreamServer.start(
            tls: try pki.serverContext(for: "api.test", protocols: ["h2", "http/1.1"]),
            http2: true
        )
        let directory = try TemporaryDirectory()
        let (running, installed, state) = try await RunningEgress.unprivileged(
            in: directory,
            pki: pki,
            routes: """
                log: 1
                routes:
                  - host: api.test
                    auth_scheme: bearer
                    token_env: EGRESS_TOKEN_0
                    dlp: {outbound_on_match: block}
                """,
            connectTo: [("api.test", upstream.port)],
            environment: ["EGRESS_TOKEN_0": "real-token"]
        )
        let port = try await running.listenPort()

        // The proxy and every worker run as nobody with no capabilities; workers are sandboxed.
        let proxyStatus = try processStatus(running.process.pid)
        #expect(proxyStatus["Uid"]?.hasPrefix("65534\t65534") == true)
        #expect(proxyStatus["CapEff"] == "0000000000000000")
        #expect(proxyStatus["CapBnd"] == "0000000000000000")
        let workers = running.childPIDs
        #expect(workers.count == 2)
        for worker in workers {
            let status = try processStatus(worker)
            #expect(status["Uid"]?.hasPrefix("65534\t65534") == true)
            #expect(status["Seccomp"] == "2")
            #expect(status["NoNewPrivs"] == "1")
        }

        let curlBase = [
            "-sS", "--max-time", "20", "--proxy", "http://127.0.0.1:\(port)", "--cacert",
            CertificateAuthority.certificatePath(stateDirectory: state), "-w", "\n%{http_version} %{http_code}",
        ]
        let allowed = try await runProcess(
            "/usr/bin/curl",
            curlBase + ["-H", "Authorization: Bearer agent-fake", "https://api.test/echo"],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(allowed.stdout.hasSuffix("\n2 200"), "\(allowed.stdout) \(allowed.stderr)")
        #expect(upstream.requests.first?.header("authorization") == "Bearer real-token")
        #expect(upstream.requests.first?.head.version.major == 2)

        let leaking = try await runProcess(
            "/usr/bin/curl",
            curlBase + ["-d", "token=\(Self.secret)", "https://api.test/upload"],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(leaking.stdout.hasSuffix("\n2 403"), "\(leaking.stdout)")
        #expect(leaking.stdout.contains("GitHub token (classic) found in request"))
        #expect(upstream.requests.count == 1)

        // The control socket belongs to the proxy's user; the operator commands reach it as that user.
        let socket = directory.file("state/control.sock")
        let attributes = try FileManager.default.attributesOfItem(atPath: socket)
        #expect((attributes[.ownerAccountID] as? Int) == Int(Unprivileged.uid))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let list = try await runProcess(
            Unprivileged.launcher[0],
            Array(Unprivileged.launcher.dropFirst()) + [installed.egress, "supervise", "list", "--state-dir", state],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "no held requests\n")
        let health = try await runProcess(
            Unprivileged.launcher[0],
            Array(Unprivileged.launcher.dropFirst()) + [installed.egress, "health"],
            environment: ["PATH": "/usr/bin:/bin", "EGRESS_STATE_DIR": state]
        )
        #expect(health.status == 0, "\(health.stderr)")
        #expect(health.stdout == "ok\n")

        // Every socket option was set: nothing was reported.
        #expect(running.events("egress_socket_option").isEmpty, "\(running.stderrLines)")
        #expect(await running.terminate() == 0)
        await upstream.shutdown()
    }
}
