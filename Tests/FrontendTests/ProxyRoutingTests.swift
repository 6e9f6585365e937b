import Foundation
import Testing

@testable import Frontend

@Suite("Routing through the proxy", .timeLimit(.minutes(2)))
struct ProxyRoutingTests {
    @Test("an allowed CONNECT is intercepted and each inner request is routed by path and method")
    func innerRequestsRoutedOneByOne() async throws {
        let routes = """
            log: 1
            routes:
              - host: "api.test"
                matches:
                  - paths: [{value: "/repos/"}]
                    methods: ["GET"]
            \(dlpOff)
            """
        try await Scenario.run(routes: routes) { s in
            let allowed = try await curl(s.proxy, ["https://api.test/repos/a/b?x=1"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(Scenario.echoed(allowed)?["uri"] as? String == "/repos/a/b?x=1")

            let wrongMethod = try await curl(
                s.proxy,
                ["-X", "POST", "-d", "{}", "-w", "\n%{http_code}", "https://api.test/repos/a"]
            )
            #expect(wrongMethod.stdout.hasSuffix("403"))
            #expect(wrongMethod.stdout.contains(#""reason":"egress: no route match for POST /repos/a on api.test""#))

            let wrongPath = try await curl(s.proxy, ["-w", "\n%{http_code}", "https://api.test/gists"])
            #expect(wrongPath.stdout.hasSuffix("403"))
            #expect(s.upstream.requests.map(\.head.uri) == ["/repos/a/b?x=1"])

            let blocks = s.proxy.events.events("egress_block")
            #expect(blocks.count == 2)
            #expect(blocks.first?["method"] as? String == "POST")
            #expect(blocks.first?["path"] as? String == "/repos/a")
            #expect(blocks.first?["host"] as? String == "api.test")
        }
    }

    @Test("CONNECT to a host no route allows is refused with 403 before any certificate is minted")
    func connectRefusedBeforeTLS() async throws {
        try await Scenario.run(routes: "log: 1\nroutes:\n  - host: \"api.test\"\n\(dlpOff)\n") { s in
            let result = try await curl(s.proxy, ["https://evil.test/"])
            #expect(result.status == 56)
            #expect(result.stderr.contains("403"))
            #expect(s.proxy.server.services.interception.count == 0)
            let block = try #require(s.proxy.events.events("egress_block").first)
            #expect(block["method"] as? String == "CONNECT")
            #expect(block["reason"] as? String == "egress: host not allowed: evil.test")
            #expect(s.upstream.requests.isEmpty)
        }
    }

    @Test("the error body is JSON with a stable reason")
    func blockedBodyIsJSON() async throws {
        try await Scenario.run(routes: "routes: []\n", plainUpstream: true) { s in
            let result = try await curl(s.proxy, ["-i", "http://api.test/x"])
            #expect(result.stdout.contains("HTTP/1.1 403"))
            #expect(result.stdout.lowercased().contains("content-type: application/json"))
            let body = try #require(result.stdout.components(separatedBy: "\r\n\r\n").last)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
            #expect(json == ["error": "egress_blocked", "reason": "egress: host not allowed: api.test"])
        }
    }

    @Test("plain http absolute-form requests are forwarded on an allowed route")
    func plainHTTPForwarded() async throws {
        try await Scenario.run(routes: "routes:\n  - host: \"api.test\"\n\(dlpOff)\n", plainUpstream: true) { s in
            let result = try await curl(
                s.proxy,
                ["-H", "Proxy-Authorization: Basic c2VjcmV0", "http://api.test/plain?q=1"]
            )
            #expect(result.status == 0, "\(result.stderr)")
            let echoed = try #require(Scenario.echoed(result))
            #expect(echoed["uri"] as? String == "/plain?q=1")
            let headers = try #require(echoed["headers"] as? [String: String])
            #expect(headers["host"] == "api.test")
            #expect(headers["proxy-authorization"] == nil)
            #expect(headers["proxy-connection"] == nil)
        }
    }

    @Test("a route with credentials never sends them over plain http")
    func credentialsNeverOverPlainHTTP() async throws {
        let routes = """
            routes:
              - host: "api.test"
                auth_scheme: bearer
                token_env: EGRESS_TOKEN_0
            \(dlpOff)
            """
        try await Scenario.run(routes: routes, environment: ["EGRESS_TOKEN_0": "real-token"], plainUpstream: true) {
            s in
            let result = try await curl(s.proxy, ["-w", "\n%{http_code}", "http://api.test/x"])
            #expect(result.stdout.hasSuffix("403"))
            #expect(result.stdout.contains("egress: refusing to send credentials over plain http"))
            #expect(s.upstream.requests.isEmpty)
        }
    }

    @Test("a route that needs DLP is refused with 503 while no scanner can serve it")
    func dlpRouteFailsClosed() async throws {
        try await Scenario.run(routes: "routes:\n  - host: \"api.test\"\n") { s in
            let result = try await curl(s.proxy, ["-w", "\n%{http_code}", "https://api.test/x"])
            #expect(result.stdout.hasSuffix("503"))
            #expect(result.stdout.contains("egress DLP: scanner unavailable"))
            #expect(s.upstream.requests.isEmpty)
        }
    }

    @Test("a malformed request gets 400 with a JSON reason")
    func malformedRequest() async throws {
        try await Scenario.run(routes: "routes: []\n") { s in
            let reply = try await RawClient.exchange(
                port: s.proxy.port,
                send: "GET http://api.test/ HTTP/1.1\r\nHost api.test\r\n\r\n"
            )
            #expect(reply.hasPrefix("HTTP/1.1 400"))
            #expect(reply.contains("egress: malformed HTTP request"))
        }
    }

    @Test("origin-form requests and requests aimed at the proxy itself are refused")
    func notAProxyRequest() async throws {
        try await Scenario.run(routes: "routes:\n  - host: \"127.0.0.1\"\n\(dlpOff)\n") { s in
            let direct = try await RawClient.exchange(
                port: s.proxy.port,
                send: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            #expect(direct.hasPrefix("HTTP/1.1 400"))
            #expect(direct.contains("not a proxy request"))
            let loop = try await curl(s.proxy, ["-w", "\n%{http_code}", "http://127.0.0.1:\(s.proxy.port)/"])
            #expect(loop.stdout.hasSuffix("403"))
            #expect(loop.stdout.contains("egress: requests to the proxy itself are not allowed"))
        }
    }
}
