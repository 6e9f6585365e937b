import Testing

@testable import EgressRoutes

@Suite struct HostPatternTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let input: String
        let description: String
        let host: String
        let isWildcard: Bool
        let port: Int?
        var testDescription: String { input }
    }

    static let valid: [Valid] = [
        Valid(
            input: "api.github.com",
            description: "api.github.com",
            host: "api.github.com",
            isWildcard: false,
            port: nil
        ),
        Valid(
            input: "API.GitHub.Com",
            description: "api.github.com",
            host: "api.github.com",
            isWildcard: false,
            port: nil
        ),
        Valid(input: "localhost", description: "localhost", host: "localhost", isWildcard: false, port: nil),
        Valid(
            input: "my_host-1.internal",
            description: "my_host-1.internal",
            host: "my_host-1.internal",
            isWildcard: false,
            port: nil
        ),
        Valid(input: "10.0.0.1", description: "10.0.0.1", host: "10.0.0.1", isWildcard: false, port: nil),
        Valid(input: "10.0.0.1:8080", description: "10.0.0.1:8080", host: "10.0.0.1", isWildcard: false, port: 8080),
        Valid(input: "host:8443", description: "host:8443", host: "host", isWildcard: false, port: 8443),
        Valid(input: "host:1", description: "host:1", host: "host", isWildcard: false, port: 1),
        Valid(input: "host:65535", description: "host:65535", host: "host", isWildcard: false, port: 65535),
        Valid(input: "host:00443", description: "host:443", host: "host", isWildcard: false, port: 443),
        Valid(input: "*.example.com", description: "*.example.com", host: "example.com", isWildcard: true, port: nil),
        Valid(
            input: "*.Example.COM:8443",
            description: "*.example.com:8443",
            host: "example.com",
            isWildcard: true,
            port: 8443
        ),
        Valid(input: "*.com", description: "*.com", host: "com", isWildcard: true, port: nil),
        Valid(input: "[::1]", description: "[::1]", host: "::1", isWildcard: false, port: nil),
        Valid(input: "[::1]:8443", description: "[::1]:8443", host: "::1", isWildcard: false, port: 8443),
        Valid(input: "[0:0:0:0:0:0:0:1]", description: "[::1]", host: "::1", isWildcard: false, port: nil),
        Valid(
            input: "[2001:DB8:0:0:1:0:0:1]",
            description: "[2001:db8::1:0:0:1]",
            host: "2001:db8::1:0:0:1",
            isWildcard: false,
            port: nil
        ),
        Valid(
            input: "[2001:db8:0:0:0:0:2:1]:443",
            description: "[2001:db8::2:1]:443",
            host: "2001:db8::2:1",
            isWildcard: false,
            port: 443
        ),
        Valid(
            input: "[1:2:3:4:5:6:7:8]",
            description: "[1:2:3:4:5:6:7:8]",
            host: "1:2:3:4:5:6:7:8",
            isWildcard: false,
            port: nil
        ),
        Valid(
            input: "[1:0:3:4:5:6:7:8]",
            description: "[1:0:3:4:5:6:7:8]",
            host: "1:0:3:4:5:6:7:8",
            isWildcard: false,
            port: nil
        ),
        Valid(input: "[fe80::]", description: "[fe80::]", host: "fe80::", isWildcard: false, port: nil),
        Valid(input: "[::]", description: "[::]", host: "::", isWildcard: false, port: nil),
        Valid(
            input: "[::ffff:1.2.3.4]",
            description: "[::ffff:102:304]",
            host: "::ffff:102:304",
            isWildcard: false,
            port: nil
        ),
    ]

    @Test(arguments: valid)
    func parses(_ valid: Valid) throws {
        let pattern = try HostPattern(valid.input)
        #expect(pattern.description == valid.description)
        #expect(pattern.host == valid.host)
        #expect(pattern.isWildcard == valid.isWildcard)
        #expect(pattern.port == valid.port)
        // The description is the file form: it parses back to the same pattern.
        #expect(try HostPattern(pattern.description) == pattern)
    }

    static let invalid: [(input: String, expected: String)] = [
        ("", "a host name"),
        (" api.github.com", "a host without whitespace or control characters"),
        ("api.github.com ", "a host without whitespace or control characters"),
        ("api github.com", "a host without whitespace or control characters"),
        ("api.github.com\t", "a host without whitespace or control characters"),
        ("api\u{0}.com", "a host without whitespace or control characters"),
        ("*", "a wildcard only as a leading \"*.\" followed by a domain"),
        ("*.", "a wildcard of the form *.domain"),
        ("*.*.example.com", "a wildcard of the form *.domain"),
        ("a.*.example.com", "a wildcard only as a leading \"*.\" followed by a domain"),
        ("example.*", "a wildcard only as a leading \"*.\" followed by a domain"),
        ("*example.com", "a wildcard only as a leading \"*.\" followed by a domain"),
        ("**.example.com", "a wildcard only as a leading \"*.\" followed by a domain"),
        ("*.:443", "a wildcard of the form *.domain"),
        ("https://api.github.com", "a host without a scheme"),
        ("http://x:80", "a host without a scheme"),
        ("api.github.com/repos", "a host without a path"),
        ("api.github.com/", "a host without a path"),
        ("api.github.com?x", "a host without a path"),
        ("api.github.com#x", "a host without a path"),
        ("user@api.github.com", "a host without user info"),
        ("host:0", "a port from 1 to 65535"),
        ("host:65536", "a port from 1 to 65535"),
        ("host:123456", "a port from 1 to 65535"),
        ("host:http", "a port from 1 to 65535"),
        ("host:", "a port from 1 to 65535"),
        ("host:-1", "a port from 1 to 65535"),
        ("host:+80", "a port from 1 to 65535"),
        ("host: 80", "a host without whitespace or control characters"),
        (":443", "a host name before the port"),
        ("a..b", "a host name of letters, digits, '-', '_' and single dots"),
        (".example.com", "a host name of letters, digits, '-', '_' and single dots"),
        ("example.com.", "a host name of letters, digits, '-', '_' and single dots"),
        ("ünïcode.example", "a host name of letters, digits, '-', '_' and single dots"),
        ("a$b.example", "a host name of letters, digits, '-', '_' and single dots"),
        (String(repeating: "a", count: 64) + ".example", "a host name of letters, digits, '-', '_' and single dots"),
        ("::1", "an IPv6 address in brackets, like [::1]"),
        ("a:b:c", "an IPv6 address in brackets, like [::1]"),
        ("[::1", "an IPv6 address in brackets, like [::1]"),
        ("[]", "a valid IPv6 address in brackets, like [::1]"),
        ("[::g]", "a valid IPv6 address in brackets, like [::1]"),
        ("[1:::2]", "a valid IPv6 address in brackets, like [::1]"),
        ("[1::2::3]", "a valid IPv6 address in brackets, like [::1]"),
        ("[1:2:3:4:5:6:7:8:9]", "a valid IPv6 address in brackets, like [::1]"),
        ("[1:2:3:4:5:6:7]", "a valid IPv6 address in brackets, like [::1]"),
        ("[1:2:3:4::5:6:7:8]", "a valid IPv6 address in brackets, like [::1]"),
        ("[12345::]", "a valid IPv6 address in brackets, like [::1]"),
        ("[::1%eth0]", "a valid IPv6 address in brackets, like [::1]"),
        ("[::1.2.3]", "a valid IPv6 address in brackets, like [::1]"),
        ("[::256.1.1.1]", "a valid IPv6 address in brackets, like [::1]"),
        ("[example.com]", "a valid IPv6 address in brackets, like [::1]"),
        ("[::1]x", "only :port after an IPv6 address in brackets"),
        ("[::1]:", "a port from 1 to 65535"),
        ("[::1]:0", "a port from 1 to 65535"),
    ]

    @Test func rejects() {
        for (input, expected) in Self.invalid {
            do {
                let pattern = try HostPattern(input)
                Issue.record("accepted \(input) as \(pattern)")
            } catch {
                #expect(error.expected == expected, "\(input)")
                #expect(error.input == input)
                #expect(error.description == "expected \(expected), got \(ConfigText.quoted(input))")
            }
        }
    }

    // MARK: Matching

    @Test func exactMatchIsCaseInsensitive() {
        let pattern = host("api.github.com")
        #expect(pattern.matches(host: "api.github.com", port: 443, isTLS: true))
        #expect(pattern.matches(host: "API.GitHub.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "api.github.co", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "xapi.github.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "a.api.github.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "api.github.com.", port: 443, isTLS: true))
    }

    @Test func barePatternAccepts443ForTLSAnd80ForPlain() {
        let pattern = host("example.com")
        #expect(pattern.matches(host: "example.com", port: 443, isTLS: true))
        #expect(pattern.matches(host: "example.com", port: 80, isTLS: false))
        #expect(!pattern.matches(host: "example.com", port: 80, isTLS: true))
        #expect(!pattern.matches(host: "example.com", port: 443, isTLS: false))
        #expect(!pattern.matches(host: "example.com", port: 8443, isTLS: true))
        #expect(!pattern.matches(host: "example.com", port: 8080, isTLS: false))
    }

    @Test func pinnedPortAcceptsThatPortOnlyForEitherScheme() {
        let pattern = host("example.com:8443")
        #expect(pattern.matches(host: "example.com", port: 8443, isTLS: true))
        #expect(pattern.matches(host: "example.com", port: 8443, isTLS: false))
        #expect(!pattern.matches(host: "example.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "example.com", port: 80, isTLS: false))
        let pinned443 = host("example.com:443")
        #expect(pinned443.matches(host: "example.com", port: 443, isTLS: false))
        #expect(!pinned443.matches(host: "example.com", port: 80, isTLS: false))
    }

    @Test func wildcardMatchesSubdomainsAtAnyDepthButNotTheApex() {
        let pattern = host("*.example.com")
        #expect(pattern.matches(host: "a.example.com", port: 443, isTLS: true))
        #expect(pattern.matches(host: "a.b.c.example.com", port: 443, isTLS: true))
        #expect(pattern.matches(host: "A.EXAMPLE.COM", port: 80, isTLS: false))
        #expect(!pattern.matches(host: "example.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: ".example.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "a..example.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "badexample.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "example.com.evil", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "a.example.com", port: 8443, isTLS: true))
    }

    @Test func pinnedWildcard() {
        let pattern = host("*.example.com:8443")
        #expect(pattern.matches(host: "a.example.com", port: 8443, isTLS: true))
        #expect(!pattern.matches(host: "a.example.com", port: 443, isTLS: true))
        #expect(!pattern.matches(host: "example.com", port: 8443, isTLS: true))
    }

    @Test func ipv6MatchesWithOrWithoutBracketsInAnySpelling() {
        let pattern = host("[::1]:8443")
        #expect(pattern.matches(host: "::1", port: 8443, isTLS: true))
        #expect(pattern.matches(host: "[::1]", port: 8443, isTLS: true))
        #expect(pattern.matches(host: "[0:0:0:0:0:0:0:1]", port: 8443, isTLS: true))
        #expect(!pattern.matches(host: "::2", port: 8443, isTLS: true))
        #expect(!pattern.matches(host: "::1", port: 443, isTLS: true))
        let upper = host("[2001:db8::a]")
        #expect(upper.matches(host: "2001:DB8::A", port: 443, isTLS: true))
    }

    @Test func ipv4Literal() {
        let pattern = host("127.0.0.1:8080")
        #expect(pattern.matches(host: "127.0.0.1", port: 8080, isTLS: false))
        #expect(!pattern.matches(host: "127.0.0.2", port: 8080, isTLS: false))
    }

    @Test func equalityIsOnTheNormalisedForm() {
        #expect(host("API.github.com") == host("api.github.com"))
        #expect(host("[0::1]") == host("[::1]"))
        #expect(host("a.example") != host("a.example:443"))
        #expect(host("*.a.example") != host("a.example"))
        #expect(Set([host("x.io"), host("X.IO"), host("x.io:80")]).count == 2)
    }
}
