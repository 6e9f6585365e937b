import Testing

@testable import EgressRoutes

@Suite("host and port")
struct HostPortTests {
    @Test(arguments: [
        ("api.test", "api.test", nil), ("api.test:8443", "api.test", 8443), ("[::1]", "::1", nil),
        ("[::1]:8080", "::1", 8080), ("127.0.0.1:1", "127.0.0.1", 1), ("[2001:db8::1]:65535", "2001:db8::1", 65535),
    ] as [(String, String, Int?)])
    func parses(text: String, host: String, port: Int?) throws {
        let parsed = try #require(HostPort(parsing: text, portRequired: false))
        #expect(parsed == HostPort(host: host, port: port))
        #expect(parsed.description == text, "prints back as written")
    }

    @Test(arguments: ["", ":80", "::1", "::1:80", "[::1", "[::1]x", "[::1]:", "host:", "host:65536", "host:+1", "host:0x10", "[]:80", "host:123456"])
    func rejects(text: String) {
        #expect(HostPort(parsing: text, portRequired: false) == nil)
    }

    @Test func portRules() {
        #expect(HostPort(parsing: "host", portRequired: true) == nil)
        #expect(HostPort(parsing: "host:0", portRequired: true) == nil)
        #expect(HostPort(parsing: "host:0", portRequired: true, allowsPortZero: true) == HostPort(host: "host", port: 0))
        #expect(HostPort.bracketed("fe80::1") == "[fe80::1]")
        #expect(HostPort.bracketed("api.test") == "api.test")
    }
}
