import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Testing

@testable import Frontend

@Suite("Streaming and connection handling", .timeLimit(.minutes(2)))
struct StreamingTests {
    static let routes = "routes:\n  - host: \"api.test\"\n\(dlpOff)\n"

    static func client(for proxy: ProxyHarness) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(proxy.caPath))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.proxy = .server(host: "127.0.0.1", port: proxy.port)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    @Test("server-sent events reach the client before the stream ends")
    func sseChunksArriveEarly() async throws {
        let gate = Gate()
        try await Scenario.run(
            routes: Self.routes,
            responder: { _ in
                .gatedStream(
                    headers: [("content-type", "text/event-stream")],
                    first: "data: first\n\n",
                    gate: gate,
                    rest: ["data: second\n\n", "data: [DONE]\n\n"]
                )
            }
        ) { s in
            let client = try Self.client(for: s.proxy)
            do {
                let response = try await client.execute(
                    HTTPClientRequest(url: "https://api.test/v1/stream"),
                    timeout: .seconds(20)
                )
                #expect(response.status == .ok)
                var iterator = response.body.makeAsyncIterator()
                // The upstream holds the rest of the stream until the first event has been seen
                // here: a proxy that buffered would never deliver it and the time limit would fail the test.
                let first = try #require(try await iterator.next())
                #expect(String(buffer: first).contains("data: first"))
                gate.open()
                var rest = ""
                while let chunk = try await iterator.next() { rest += String(buffer: chunk) }
                #expect(rest.contains("data: second"))
                #expect(rest.hasSuffix("data: [DONE]\n\n"))
            } catch {
                gate.open()
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    @Test("keep-alive requests reuse one upstream connection")
    func upstreamConnectionReuse() async throws {
        try await Scenario.run(routes: Self.routes) { s in
            let client = try Self.client(for: s.proxy)
            for index in 0..<5 {
                let response = try await client.execute(
                    HTTPClientRequest(url: "https://api.test/n/\(index)"),
                    timeout: .seconds(20)
                )
                _ = try await response.body.collect(upTo: 1 << 20)
                #expect(response.status == .ok)
            }
            try await client.shutdown()
            #expect(s.upstream.requests.count == 5)
            #expect(s.upstream.connectionsAccepted == 1)
            #expect(s.proxy.server.services.interception.count == 1)
        }
    }

    @Test("large bodies stream both ways intact")
    func largeBodies() async throws {
        let payload = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await Scenario.run(routes: Self.routes, responder: { _ in .full(body: payload.reversed()) }) { s in
            let client = try Self.client(for: s.proxy)
            var request = HTTPClientRequest(url: "https://api.test/upload")
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: payload))
            let response = try await client.execute(request, timeout: .seconds(60))
            let received = try await response.body.collect(upTo: 64 << 20)
            try await client.shutdown()
            #expect(response.status == .ok)
            #expect(Array(received.readableBytesView) == payload.reversed())
            let seen = try #require(s.upstream.requests.first)
            #expect(seen.body == payload)
        }
    }

    @Test("a client that disconnects mid-body does not disturb the proxy")
    func clientDisconnectsMidBody() async throws {
        try await Scenario.run(routes: Self.routes, plainUpstream: true) { s in
            let client = try await RawClient.connect(port: s.proxy.port)
            try await client.send(
                "POST http://api.test/upload HTTP/1.1\r\nHost: api.test\r\nContent-Length: 100000\r\n\r\n"
                    + String(repeating: "a", count: 5000)
            )
            try await Task.sleep(for: .milliseconds(200))
            await client.close()
            // The upstream sees an incomplete request whose connection then closes.
            for _ in 0..<50 where s.upstream.requests.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            let partial = try #require(s.upstream.requests.first)
            #expect(!partial.complete)
            #expect(partial.body.count <= 5000)
            let next = try await curl(s.proxy, ["http://api.test/after"])
            #expect(Scenario.echoed(next)?["uri"] as? String == "/after")
        }
    }

    @Test("a reader that stops reading makes the proxy stop reading the upstream")
    func backpressureFromSlowReader() async throws {
        let total = 256 << 20
        try await Scenario.run(
            routes: Self.routes,
            plainUpstream: true,
            responder: { _ in
                .flood(chunkSize: 64 << 10, total: total)
            }
        ) { s in
            let client = try await RawClient.connect(port: s.proxy.port, autoRead: false, receiveBuffer: 64 << 10)
            try await client.send("GET http://api.test/big HTTP/1.1\r\nHost: api.test\r\n\r\n")
            // Let the pipes fill: kernel buffers on both legs plus NIO's high-water marks.
            var previous = -1
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(100))
                let now = s.upstream.floodedBytes
                if now == previous && now > 0 { break }
                previous = now
            }
            let stalled = s.upstream.floodedBytes
            #expect(stalled > 0)
            #expect(stalled < 64 << 20, "the proxy kept reading \(stalled) bytes for a reader that reads nothing")
            // Reading resumes the flow.
            client.channel.read()
            client.channel.setOption(.autoRead, value: true).whenFailure { _ in }
            for _ in 0..<100 where s.upstream.floodedBytes < stalled + (8 << 20) {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(s.upstream.floodedBytes > stalled)
            await client.close()
        }
    }

    @Test("HEAD responses keep their length header and carry no body")
    func headRequest() async throws {
        try await Scenario.run(routes: Self.routes) { s in
            let result = try await curl(s.proxy, ["-I", "https://api.test/file"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.lowercased().contains("content-length:"))
            let again = try await curl(s.proxy, ["https://api.test/after-head"])
            #expect(Scenario.echoed(again)?["uri"] as? String == "/after-head")
        }
    }

    @Test("Expect: 100-continue uploads go through without waiting")
    func expectContinue() async throws {
        try await Scenario.run(routes: Self.routes) { s in
            let file = try TemporaryDirectory()
            let body = String(repeating: "z", count: 2 << 20)
            try body.write(toFile: file.file("body"), atomically: true, encoding: .utf8)
            let result = try await curl(
                s.proxy,
                [
                    "-H", "Expect: 100-continue", "--data-binary", "@\(file.file("body"))", "https://api.test/upload",
                ]
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(s.upstream.requests.first?.body.count == body.utf8.count)
            #expect(s.upstream.requests.first?.header("expect") == nil)
        }
    }
}

@Suite("Graceful shutdown", .timeLimit(.minutes(1)))
struct GracefulShutdownTests {
    @Test("shutdown stops accepting, lets the response in flight finish, then stops")
    func drainsInFlightRequests() async throws {
        let gate = Gate()
        try await Scenario.run(routes: StreamingTests.routes, responder: { _ in
            .gatedStream(headers: [("content-type", "text/plain")], first: "first,", gate: gate, rest: ["second,", "last"])
        }) { s in
            let client = try StreamingTests.client(for: s.proxy)
            do {
                let response = try await client.execute(HTTPClientRequest(url: "https://api.test/long"), timeout: .seconds(20))
                var iterator = response.body.makeAsyncIterator()
                let first = try #require(try await iterator.next())
                #expect(String(buffer: first) == "first,")
                let stopping = Task { await s.proxy.server.shutdown(drainTimeout: .seconds(20)) }
                // The listener closes at once: a new agent connection is refused.
                var refused = false
                for _ in 0..<50 {
                    let attempt = try await runProcess("/usr/bin/curl", ["-sS", "-x", s.proxy.proxyURL, "http://x.test/"])
                    if attempt.status == 7 { refused = true; break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(refused)
                // The response already under way still completes.
                gate.open()
                var rest = ""
                while let chunk = try await iterator.next() { rest += String(buffer: chunk) }
                #expect(rest == "second,last")
                await stopping.value
            } catch {
                // An AsyncHTTPClient released unshut down traps: shut it down on every path.
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }
}
