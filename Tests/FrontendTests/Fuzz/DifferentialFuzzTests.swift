import Foundation
import NIOCore
import Testing

@testable import Frontend

/// Differential fuzzing of the real request path (README, "Tests"): random and mutated request
/// streams go through the proxy to a recording upstream. Whatever the bytes, the proxy must not
/// crash, must answer at most once per request, and every request the upstream parses must be one
/// the proxy judged and allowed — never a body parsed as a request, never a path or method the
/// routes refuse. `FUZZ_CASES` and `FUZZ_SEED` set the run's size and seed (scripts/fuzz.sh).
@Suite("differential fuzz of the request path", .timeLimit(.minutes(10)))
struct DifferentialFuzzTests {
    static let routes = """
        log: 2
        routes:
          - host: "api.test"
            matches:
              - paths: [{value: "/ok/"}]
                methods: ["GET", "POST"]
            dlp: {outbound_detectors: false, inbound_detectors: false}
        """

    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static var cases: Int { environment["FUZZ_CASES"].flatMap(Int.init) ?? 150 }
    static var seed: UInt64 { environment["FUZZ_SEED"].flatMap(UInt64.init) ?? 0xE6E5_5F0C }

    @Test("the upstream parses only requests the proxy judged and allowed")
    func upstreamParsesOnlyJudgedRequests() async throws {
        // A plain upstream for http:// targets and a TLS one for tunnels; every port the generated
        // targets name goes to one of them, so no name is ever resolved.
        let pki = try TestPKI()
        let upstream = try await UpstreamServer.start()
        let tlsUpstream = try await UpstreamServer.start(tls: try pki.serverContext(for: "api.test"))
        let proxy = try await ProxyHarness.start(
            routes: Self.routes,
            connectTo: [("api.test", 80, upstream.port), ("api.test", 8080, upstream.port), ("api.test", 443, tlsUpstream.port)],
            trusting: pki
        )
        var generator = RequestStreamGenerator(seed: Self.seed)
        var responses = 0
        for index in 0..<Self.cases {
            // Every other stream goes inside a TLS tunnel, the path most real traffic takes.
            let inTunnel = index % 2 == 1
            let bytes = generator.stream(case: index, tunnel: inTunnel)
            let client = try await RawClient.connect(port: proxy.port)
            if inTunnel {
                try await client.send("CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
                await client.waitForResponses(1)
                guard client.statuses == [200] else {
                    Issue.record("case \(index): CONNECT answered \(client.receivedText)")
                    await client.close()
                    continue
                }
                try await client.startTLS(host: "api.test", caPath: proxy.caPath)
            }
            try? await client.send(bytes: bytes)
            await Self.waitForQuiet(client)
            // Final responses only: `100 Continue` is an interim answer to `Expect`.
            let answered = client.statuses.filter { $0 >= 200 }.count
            let received = client.receivedText
            await client.close()
            // A response needs a parsed request line, and every request line names an HTTP version.
            let sent = String(decoding: bytes, as: UTF8.self)
            let requestLines = sent.components(separatedBy: "HTTP/").count - 1
            // Bytes the parser rejects get one 400 of their own, after which the connection closes.
            let malformed = received.components(separatedBy: "egress: malformed HTTP request").count - 1
            #expect(
                malformed <= 1 && answered - malformed <= requestLines,
                "case \(index): \(answered) responses for \(requestLines) request lines\n\(sent.debugDescription)\n\(received)"
            )
            responses += answered
        }
        // Wait for the upstream to settle, then compare what it parsed with what the proxy forwarded.
        var seen = -1
        while seen != upstream.requests.count + tlsUpstream.requests.count {
            seen = upstream.requests.count + tlsUpstream.requests.count
            try await Task.sleep(for: .milliseconds(300))
        }
        let parsed = (upstream.requests + tlsUpstream.requests).filter(\.complete)
        var forwarded: [String: Int] = [:]
        for event in proxy.events.events("egress_request") {
            let key = "\(event["method"] as? String ?? "?") \(event["path"] as? String ?? "?")"
            forwarded[key, default: 0] += 1
        }
        for request in parsed {
            let path = String(request.head.uri.prefix { $0 != "?" })
            let key = "\(request.head.method.rawValue) \(path)"
            // A `smuggled` marker may be a real request when the request before it had no body (in a
            // tunnel, origin-form is what clients send): what matters is that the proxy judged it.
            #expect(path.hasPrefix("/ok/"), "upstream parsed a request nobody allowed: \(key)")
            #expect(["GET", "POST"].contains(request.head.method.rawValue), "upstream parsed \(key)")
            #expect(request.header("host") == "api.test", "\(key) reached the upstream with host \(request.header("host") ?? "none")")
            #expect((forwarded[key] ?? 0) > 0, "upstream parsed \(key), which the proxy never forwarded")
            forwarded[key, default: 0] -= 1
        }
        // The proxy still serves.
        let health = try await RawClient.connect(port: proxy.port)
        try await health.send("GET http://api.test/ok/alive HTTP/1.1\r\nHost: api.test\r\n\r\n")
        await health.waitForResponses(1)
        #expect(health.statuses == [200])
        await health.close()
        let inTunnels = tlsUpstream.requests.filter(\.complete).count
        print(
            "fuzz: seed \(Self.seed), \(Self.cases) streams (half in TLS tunnels), \(responses) responses, "
                + "\(parsed.count) requests parsed upstream (\(inTunnels) through tunnels)"
        )
        await proxy.shutdown()
        await upstream.shutdown()
        await tlsUpstream.shutdown()
    }

    /// Until the proxy closes the connection or nothing new arrives for 150 ms (at most 3 s).
    static func waitForQuiet(_ client: RawClient) async {
        var last = -1
        var quiet = 0
        for _ in 0..<150 where client.channel.isActive {
            let count = client.receivedCount
            quiet = count == last ? quiet + 1 : 0
            last = count
            if quiet >= 8 { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
