import Foundation
import Testing

@testable import Frontend

@Suite("HTTP/2 through the proxy")
struct HTTP2ThroughProxyTests {
    static let httpxClient = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("HTTP2/httpx_client.py").path

    static let routes = """
        routes:
          - host: "api.test"
            auth_scheme: bearer
            token_env: TOKEN
        \(dlpOff)
        """

    @Test("curl --http2 gets h2 from the proxy, its credential injected, to an HTTP/1.1 upstream", .timeLimit(.minutes(1)))
    func curlHTTP2ToHTTP1Upstream() async throws {
        try await Scenario.run(routes: Self.routes, environment: ["TOKEN": "operator-secret"]) { s in
            let result = try await curl(
                s.proxy,
                ["--http2", "-H", "Authorization: Bearer agent-fake", "-d", "hello", "-w", "\n%{http_version}", "https://api.test/v1/echo"]
            )
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.last == "2")
            let echoed = try #require(
                (try? JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8))) as? [String: Any]
            )
            let headers = try #require(echoed["headers"] as? [String: String])
            #expect(headers["authorization"] == "Bearer operator-secret")
            #expect(echoed["body"] as? String == "hello")
            #expect(s.upstream.requests.first?.head.version == .http1_1)
        }
    }

    /// Uploads are answered with their size; `/down/…` with a 1 MiB body sent as fast as the stream takes it.
    static let sizes: UpstreamServer.Responder = { request in
        if request.head.uri.hasPrefix("/down/") { return .flood(chunkSize: 16_384, total: 1 << 20) }
        return .full(body: Array("\(request.body.count)".utf8))
    }

    @Test(
        "parallel streams of one agent share one HTTP/2 connection upstream, bodies beyond the 64 KiB window both ways",
        .timeLimit(.minutes(1))
    )
    func multiplexedToHTTP2Upstream() async throws {
        let big = 1 << 20
        try await Scenario.run(
            routes: Self.routes,
            environment: ["TOKEN": "operator-secret"],
            upstreamHTTP2: true,
            responder: Self.sizes
        ) { s in
            let directory = try TemporaryDirectory()
            let upload = directory.file("upload")
            try Data(repeating: UInt8(ascii: "u"), count: big).write(to: URL(fileURLWithPath: upload))
            var arguments = ["--http2", "--parallel", "--data-binary", "@\(upload)", "-w", "%{http_version} %{size_download} %{url}\n"]
            for index in 0..<6 {
                arguments += ["-o", index % 2 == 0 ? directory.file("out\(index)") : "/dev/null"]
                arguments.append(index % 2 == 0 ? "https://api.test/up/\(index)" : "https://api.test/down/\(index)")
            }
            let result = try await curl(s.proxy, arguments)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").sorted { $0.split(separator: " ")[2] < $1.split(separator: " ")[2] }
            #expect(lines.count == 6, "\(result.stdout)")
            for line in lines {
                let fields = line.split(separator: " ")
                #expect(fields[0] == "2", "\(line)")
                #expect(fields[1] == (fields[2].contains("/down/") ? "\(big)" : "\(String(big).count)"), "\(line)")
            }
            for index in stride(from: 0, to: 6, by: 2) {
                #expect(try String(contentsOfFile: directory.file("out\(index)"), encoding: .utf8) == "\(big)")
            }
            let requests = s.upstream.requests
            #expect(requests.count == 6)
            #expect(requests.allSatisfy { $0.head.version.major == 2 && $0.body.count == big && $0.complete })
            #expect(requests.allSatisfy { $0.header("authorization") == "Bearer operator-secret" })
            #expect(s.upstream.connectionsAccepted == 1, "one upstream connection for the agent's streams")
            #expect(s.upstream.floodedBytes == 3 * big)
        }
    }

    /// A gRPC-like answer: a body, then the status in trailers.
    static let grpcLike: UpstreamServer.Responder = { _ in
        .withTrailers(
            headers: [("content-type", "application/grpc")],
            body: Array("payload".utf8),
            trailers: [("grpc-status", "0"), ("grpc-message", "fine"), ("content-length", "99")]
        )
    }

    @Test("response trailers pass between h2 legs (gRPC status); framing fields in trailers are dropped", .timeLimit(.minutes(1)))
    func trailersPass() async throws {
        try await Scenario.run(
            routes: Self.routes,
            environment: ["TOKEN": "t"],
            upstreamHTTP2: true,
            responder: Self.grpcLike
        ) { s in
            let result = try await curl(s.proxy, ["--http2", "-v", "-H", "te: trailers", "https://api.test/pkg.Service/Call"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "payload")
            #expect(result.stderr.contains("< grpc-status: 0"), "\(result.stderr)")
            #expect(result.stderr.contains("< grpc-message: fine"))
            #expect(!result.stderr.contains("content-length: 99"))
            #expect(s.upstream.requests.first?.header("te") == "trailers", "gRPC servers need TE: trailers")
        }
    }

    @Test("on an inbound block route trailers are scanned with the body: an injection there is refused", .timeLimit(.minutes(1)))
    func trailersScanned() async throws {
        try await Scenario.run(
            routes: DLPThroughProxyTests.routes("outbound_detectors: false, inbound_on_match: block"),
            upstreamHTTP2: true,
            scanners: 1,
            responder: { request in
                .withTrailers(
                    headers: [("content-type", "text/plain")],
                    body: Array("All clear.".utf8),
                    trailers: [("grpc-message", request.head.uri == "/bad" ? DLPThroughProxyTests.injection : "fine")]
                )
            }
        ) { s in
            let bad = try await curl(s.proxy, ["--http2", "-w", "\n%{http_code}", "https://api.test/bad"])
            #expect(bad.stdout.hasSuffix("403"), "\(bad.stdout)")
            #expect(bad.stdout.contains("egress DLP: possible prompt injection detected"))
            let good = try await curl(s.proxy, ["--http2", "-v", "https://api.test/good"])
            #expect(good.stdout == "All clear.")
            #expect(good.stderr.contains("< grpc-message: fine"))
        }
    }

    @Test("httpx with http2=True: parallel POSTs beyond the window multiplexed on one connection each leg", .timeLimit(.minutes(1)))
    func httpxHTTP2() async throws {
        let upload = 200_000
        try await Scenario.run(
            routes: Self.routes,
            environment: ["TOKEN": "operator-secret"],
            upstreamHTTP2: true,
            responder: Self.sizes
        ) { s in
            let urls = (0..<5).map { "https://api.test/v1/call/\($0)" }
            let result = try await runProcess(
                "/usr/bin/env",
                ["python3", Self.httpxClient, s.proxy.proxyURL, s.proxy.caPath, String(upload)] + urls,
                environment: WebSocketThroughProxyTests.pythonEnvironment
            )
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
            #expect(lines.count == urls.count, "\(result.stdout)")
            for line in lines {
                #expect(line["http_version"] as? String == "HTTP/2")
                #expect(line["status"] as? Int == 200)
                #expect(line["text"] as? String == String(upload))
            }
            #expect(s.upstream.requests.count == urls.count)
            #expect(s.upstream.requests.allSatisfy { $0.head.version.major == 2 && $0.body.count == upload })
            #expect(s.upstream.requests.allSatisfy { $0.header("authorization") == "Bearer operator-secret" })
            #expect(s.upstream.connectionsAccepted == 1)
        }
    }
}
