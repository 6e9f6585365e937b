import EgressRoutes
import NIOCore
import Testing

@testable import Frontend

/// The proxy never connects to its own listeners, however the target is spelled or resolved.
@Suite("the proxy never calls itself", .timeLimit(.minutes(2)))
struct SelfAddressTests {
    @Test(
        "numeric spellings of a local address at the proxy's port are refused",
        arguments: ["127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "127.0.0.2", "0.0.0.0", "[::1]", "[::]"]
    )
    func numericSpellings(host: String) async throws {
        // Every route allowed and private upstreams allowed: only the self-address check stands.
        try await Scenario.run(routes: "log: 1\nroutes:\n  - host: api.test\n\(dlpOff)\n") { s in
            let plain = try await curl(s.proxy, ["-w", "\n%{http_code}", "http://\(host):\(s.proxy.port)/"])
            #expect(plain.stdout.hasSuffix("\n403"), "\(plain.stdout) \(plain.stderr)")
            #expect(plain.stdout.contains("egress: requests to the proxy itself are not allowed"))
            let tunnel = try await curl(s.proxy, ["-o", "/dev/null", "-w", "%{http_connect}", "https://\(host):\(s.proxy.port)/"])
            #expect(tunnel.stdout == "403")
            let blocks = s.proxy.events.events("egress_block").compactMap { $0["reason"] as? String }
            #expect(blocks.count == 2)
            #expect(blocks.allSatisfy { $0 == "egress: requests to the proxy itself are not allowed" })
        }
    }

    @Test("a name that resolves to a local address is refused once resolved, even when a route allows it")
    func resolvedName() async throws {
        try await Scenario.run(routes: "routes: []\n") { s in
            let routes = try RoutesConfig.parse(
                yaml: "log: 1\nroutes:\n  - host: \"localhost:\(s.proxy.port)\"\n\(dlpOff)\n",
                file: "routes.yaml"
            )
            s.proxy.server.reload(routes: routes, tokens: try TokenStore.resolve(routes, environment: [:]), logLevel: .blocks)
            let reply = try await curl(s.proxy, ["-w", "\n%{http_code}", "http://localhost:\(s.proxy.port)/"])
            #expect(reply.stdout.hasSuffix("\n403"), "\(reply.stdout)")
            #expect(reply.stdout.contains("egress: requests to the proxy itself are not allowed"))
        }
    }

    @Test func ownAddressesAreJudgedByAddressAndPort() throws {
        let own = OwnListeners(interfaceAddresses: [[192, 0, 2, 1]])
        own.add(port: 8080)
        for address in [
            "127.0.0.1", "127.9.9.9", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "192.0.2.1", "::ffff:192.0.2.1",
            "::127.0.0.1", "::192.0.2.1",
        ] {
            #expect(own.contains(try SocketAddress(ipAddress: address, port: 8080)), "\(address)")
        }
        #expect(!own.contains(try SocketAddress(ipAddress: "127.0.0.1", port: 8081)))
        #expect(!own.contains(try SocketAddress(ipAddress: "192.0.2.2", port: 8080)))
        #expect(!own.contains(try SocketAddress(ipAddress: "2001:db8::1", port: 8080)))
        #expect(own.contains(numericHost: "2130706433", port: 8080))
        #expect(own.contains(numericHost: "0x7f000001", port: 8080))
        #expect(!own.contains(numericHost: "localhost", port: 8080), "names are judged after resolution")
        // Interfaces read anew replace the start-up list.
        #expect(own.contains(try SocketAddress(ipAddress: "198.51.100.9", port: 8080), interfaces: [[198, 51, 100, 9]]))
        #expect(!own.contains(try SocketAddress(ipAddress: "192.0.2.1", port: 8080), interfaces: []))
    }
}
