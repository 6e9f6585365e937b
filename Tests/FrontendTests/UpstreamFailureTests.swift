import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Frontend

@Suite("Upstream failures", .timeLimit(.minutes(2)))
struct UpstreamFailureTests {
    static let routes = "log: 1\nroutes:\n  - host: \"api.test\"\n\(dlpOff)\n"

    @Test("an upstream whose certificate the proxy does not trust gets 502 and a block event")
    func untrustedCertificate() async throws {
        try await Scenario.run(routes: Self.routes, trustUpstream: false) { s in
            let result = try await curl(s.proxy, ["-w", "\n%{http_code}", "https://api.test/x"])
            #expect(result.stdout.hasSuffix("502"))
            #expect(result.stdout.contains("egress: upstream TLS verification failed for api.test"))
            #expect(s.upstream.requests.isEmpty)
            let block = try #require(s.proxy.events.events("egress_block").first)
            #expect((block["reason"] as? String)?.contains("TLS verification failed") == true)
        }
    }

    @Test("loopback upstreams are refused unless --allow-private-upstreams is given")
    func privateAddressGuard() async throws {
        try await Scenario.run(routes: Self.routes, allowPrivateUpstreams: false) { s in
            let result = try await curl(s.proxy, ["-w", "\n%{http_code}", "https://api.test/x"])
            #expect(result.stdout.hasSuffix("403"))
            #expect(result.stdout.contains("egress: upstream address not allowed: api.test resolves to 127.0.0.1"))
            #expect(s.upstream.connectionsAccepted == 0)
            #expect(s.proxy.events.events("egress_block").count == 1)
        }
    }

    @Test("a refused connection is a 502 with the reason")
    func connectionRefused() async throws {
        // A port bound but not listening refuses connections, and no other test's server can take
        // it meanwhile (a port freed after use could be, by a proxy started in parallel).
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        try #require(bound, "cannot bind a port to refuse connections")
        let port = Int(UInt16(bigEndian: address.sin_port))
        let proxy = try await ProxyHarness.start(
            routes: "routes:\n  - host: \"api.test:\(port)\"\n\(dlpOff)\n",
            connectTo: [("api.test", port, port)]
        )
        let result = try await curl(proxy, ["-w", "\n%{http_code}", "http://api.test:\(port)/x"])
        await proxy.shutdown()
        #expect(result.stdout.hasSuffix("502"))
        #expect(result.stdout.contains("egress: upstream connection failed: api.test:\(port)"))
    }

    @Test("an upstream that never starts its response is a 504 after --upstream-timeout")
    func responseTimeout() async throws {
        let upstream = try await UpstreamServer.start { request in
            request.head.uri == "/silent" ? .silent : UpstreamReply.echo(request)
        }
        let proxy = try await ProxyHarness.start(
            routes: "log: 1\nroutes:\n  - host: \"api.test:\(upstream.port)\"\n\(dlpOff)\n",
            connectTo: [("api.test", upstream.port, upstream.port)],
            upstreamResponseTimeout: .milliseconds(500)
        )
        let timedOut = try await curl(proxy, ["-w", "\n%{http_code}", "http://api.test:\(upstream.port)/silent"])
        let fine = try await curl(proxy, ["http://api.test:\(upstream.port)/fine"])
        await proxy.shutdown()
        await upstream.shutdown()
        #expect(timedOut.stdout.hasSuffix("504"))
        #expect(timedOut.stdout.contains("egress: upstream response timeout: api.test:\(upstream.port)"))
        #expect(Scenario.echoed(fine)?["uri"] as? String == "/fine")
        #expect(proxy.events.events("egress_block").count == 1)
    }

    @Test("an upstream that hangs up before answering is a 502, and the proxy keeps serving")
    func hangUp() async throws {
        try await Scenario.run(
            routes: Self.routes,
            responder: { request in
                request.head.uri == "/hang" ? .hangUp : UpstreamReply.echo(request)
            }
        ) { s in
            let failed = try await curl(s.proxy, ["-w", "\n%{http_code}", "https://api.test/hang"])
            #expect(failed.stdout.hasSuffix("502"))
            #expect(failed.stdout.contains("egress: upstream closed the connection: api.test"))
            let next = try await curl(s.proxy, ["https://api.test/fine"])
            #expect(Scenario.echoed(next)?["uri"] as? String == "/fine")
        }
    }
}
