import Crypto
import EgressTestSupport
import Foundation
import Testing
import X509

@testable import Frontend

/// WebSocket through the real `egress` binary run as nobody, with the Python `websockets` library
/// on both ends (a wss:// server with permessage-deflate on, and agents through CONNECT), plus a
/// hand-made client for frames `websockets` would never send (README, "Streaming").
@Suite("WebSocket through the proxy", .timeLimit(.minutes(3)))
struct WebSocketThroughProxyTests {
    static let secret = "ghp_" + "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("WebSocket/websocket_peer.py").path
    static var pythonEnvironment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    }

    /// A `websocket_peer.py server` for `host`, with a leaf from `pki`; its log lines as JSON.
    final class PeerServer: Sendable {
        let process: ChildProcess
        let port: Int
        let logPath: String

        /// `mode`: nil for `websocket_peer.py server`, else a `rawserver` mode.
        init(host: String, pki: TestPKI, directory: TemporaryDirectory, rawMode: String? = nil) async throws {
            let leaf = try pki.authority.issueLeaf(for: host)
            let cert = directory.file("\(host).pem")
            let key = directory.file("\(host).key")
            try leaf.certificate.serializeAsPEM().pemString.write(toFile: cert, atomically: true, encoding: .utf8)
            try P256.Signing.PrivateKey(derRepresentation: leaf.privateKeyDER).pemRepresentation
                .write(toFile: key, atomically: true, encoding: .utf8)
            let portFile = directory.file("\(host).port")
            logPath = directory.file("\(host).log")
            let stderr = directory.file("\(host).stderr")
            _ = FileManager.default.createFile(atPath: stderr, contents: nil)
            process = try ChildProcess(
                "/usr/bin/env",
                ["python3", WebSocketThroughProxyTests.script] + (rawMode.map { ["rawserver", cert, key, portFile, $0] } ?? ["server", cert, key, portFile, logPath]),
                environment: WebSocketThroughProxyTests.pythonEnvironment,
                stderr: stderr
            )
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: portFile) {
                try await Task.sleep(for: .milliseconds(100))
            }
            guard let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
                process.signal(SIGKILL)
                let output = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
                throw TestFailure("the WebSocket server for \(host) did not start: \(output)")
            }
            self.port = port
        }

        var log: [[String: Any]] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
        }

        var texts: [String] { log.compactMap { $0["text"] as? String } }

        func stop() async {
            process.signal(SIGTERM)
            _ = await process.waitForExit()
        }
    }

    static func peer(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await runProcess("/usr/bin/env", ["python3", script] + arguments, environment: pythonEnvironment)
        guard let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("websocket_peer.py \(arguments[0]) \(arguments[1]) failed (\(result.status)): \(result.stdout)\(result.stderr)")
        }
        return json
    }

    @Test("relays, scans per message and refuses what it cannot scan, run as nobody")
    func throughTheProxy() async throws {
        try Unprivileged.requireRoot()
        let pki = try TestPKI()
        let directory = try TemporaryDirectory()
        let blocking = try await PeerServer(host: "ws.test", pki: pki, directory: directory)
        let redacting = try await PeerServer(host: "redact.test", pki: pki, directory: directory)
        let greeting = try await PeerServer(host: "greet.test", pki: pki, directory: directory, rawMode: "greet")
        let reserved = try await PeerServer(host: "reserved.test", pki: pki, directory: directory, rawMode: "reserved")
        let (running, _, state) = try await RunningEgress.unprivileged(
            in: directory,
            pki: pki,
            routes: """
                log: 2
                routes:
                  - host: ws.test
                    auth_scheme: bearer
                    token_env: EGRESS_TOKEN_0
                    dlp: {outbound_on_match: block, inbound_on_match: block}
                  - host: redact.test
                    dlp: {outbound_on_match: redact, inbound_detectors: false}
                  - host: greet.test
                  - host: reserved.test
                """,
            connectTo: [
                ("ws.test", blocking.port), ("redact.test", redacting.port), ("greet.test", greeting.port),
                ("reserved.test", reserved.port),
            ],
            environment: ["EGRESS_TOKEN_0": "real-token"]
        )
        let port = try await running.listenPort()
        let proxy = "http://127.0.0.1:\(port)"
        let ca = CertificateAuthority.certificatePath(stateDirectory: state)

        // Text, binary, a fragmented message and a ping; the client offered permessage-deflate and
        // gets none; the upstream sees the operator's token, not an extension offer.
        let echo = try await Self.peer(["client", "echo", "wss://ws.test/echo", proxy, ca])
        #expect(echo["replies"] as? [String] == ["hello through the proxy", "000102ff", "fragmented message"], "\(echo)")
        #expect(echo["extensions"] as? [String] == [])
        #expect(echo["pong"] as? Bool == true)
        #expect(echo["close_code"] as? Int == 1000)
        let handshake = blocking.log.first?["handshake"] as? [String: String]
        #expect(handshake?["authorization"] == "Bearer real-token")
        #expect(handshake?["sec-websocket-extensions"] == nil)
        let logged = running.events("egress_ws_message")
        #expect(logged.contains { $0["direction"] as? String == "outbound" && $0["body"] as? String == "fragmented message" })
        #expect(logged.contains { $0["direction"] as? String == "inbound" && $0["body_base64"] as? String == "AAEC/w==" })

        // A secret split over three fragments is found in the whole message: never relayed.
        let secret = try await Self.peer(["client", "secret", "wss://ws.test/echo", proxy, ca])
        #expect(secret["first"] as? String == "a harmless first message")
        #expect(secret["close_code"] as? Int == 1008, "\(secret)")
        #expect(secret["close_reason"] as? String == "egress DLP: GitHub token (classic) found in WebSocket message")
        #expect(!blocking.texts.contains { $0.contains("my token is") }, "\(blocking.texts)")
        #expect(running.events("egress_block").contains {
            $0["reason"] as? String == "egress DLP: GitHub token (classic) found in WebSocket message" && $0["path"] as? String == "/echo"
        })

        // A prompt injection from the upstream never reaches the agent.
        let injected = try await Self.peer(["client", "inject", "wss://ws.test/echo", proxy, ca])
        #expect(injected["close_code"] as? Int == 1008, "\(injected)")
        #expect(injected["close_reason"] as? String == "egress DLP: possible prompt injection detected (high: instruction to read or send secrets)")
        #expect(injected["after"] == nil)
        #expect(running.events("egress_block").contains { $0["response_status"] as? Int == 101 })

        // redact: the message goes on with the secret replaced.
        let redacted = try await Self.peer(["client", "redact", "wss://redact.test/echo", proxy, ca])
        let echoed = try #require(redacted["echoed"] as? String, "\(redacted)")
        #expect(echoed.contains("[REDACTED:github_token_classic]") && !echoed.contains(Self.secret), "\(echoed)")
        #expect(!redacting.texts.contains { $0.contains(Self.secret) })
        #expect(running.events("egress_redact").contains { $0["host"] as? String == "redact.test" })

        // A compressed frame (RSV1) from a client that offered permessage-deflate: the 101 turned
        // the extension down, so the frame is a protocol error, never relayed unscanned.
        let compressed = try await Self.peer(["raw", "compressed", "ws.test", String(port), ca])
        #expect(compressed["status"] as? String == "101")
        #expect(compressed["extensions_in_101"] as? Bool == false)
        #expect(compressed["close_code"] as? Int == 1002, "\(compressed)")
        #expect((compressed["close_reason"] as? String)?.contains("reserved bits") == true)

        // Frames that come in the same write as the 101: relayed once the swap is done, and a broken
        // one closes the pair without harming the proxy.
        let greeted = try await Self.peer(["client", "greeted", "wss://greet.test/", proxy, ca])
        #expect(greeted["greeting"] as? String == "welcome", "\(greeted)")
        // The greeting was still under its inbound scan when the broken frame came: never delivered.
        let broken = try await Self.peer(["client", "greeted", "wss://reserved.test/", proxy, ca])
        #expect(broken["greeting"] == nil, "\(broken)")
        #expect(broken["close_code"] as? Int == 1001)
        #expect(running.events("egress_block").contains { ($0["reason"] as? String)?.contains("server sent a frame with a reserved opcode") == true })
        let after = try await Self.peer(["client", "echo", "wss://ws.test/echo", proxy, ca])
        #expect(after["close_code"] as? Int == 1000, "the proxy still serves: \(after)")

        #expect(await running.terminate() == 0)
        for server in [blocking, redacting, greeting, reserved] { await server.stop() }
    }
}
