/// A route's `host` (README, "routes.yaml"): which hosts and ports the route serves.
///
/// Forms (case-insensitive, stored lowercased):
/// - `api.github.com`: that host exactly.
/// - `*.example.com`: any subdomain of `example.com` at any depth (`a.example.com`, `a.b.example.com`),
///   never the apex `example.com` itself.
/// - `[::1]`: an IPv6 literal, always in brackets; stored in RFC 5952 canonical form.
/// - any of these with `:port` (`host:8443`, `*.example.com:8443`, `[::1]:8443`): that port only, for
///   https and plain http alike. Without a port the pattern accepts 443 for https and 80 for plain http.
///
/// Host names are DNS names: labels of ASCII letters, digits, `-` and `_` separated by single dots (IPv4
/// addresses fit this form). Schemes, paths, user info, whitespace and a trailing dot are rejected.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// The host, lowercased; for a wildcard the suffix after `*.`; for IPv6 the address without brackets.
    public let host: String
    /// `true` for `*.suffix` patterns.
    public let isWildcard: Bool
    /// The pinned port, or `nil` for the scheme's default (443 https, 80 http).
    public let port: Int?

    /// Why a host string was rejected: what was expected, and the input.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let input: String
        /// A phrase like `a host without a scheme`, used as `expected <phrase>, got "<input>"`.
        public let expected: String

        public var description: String { "expected \(expected), got \(ConfigText.quoted(input))" }
    }

    /// Parses the file form of a host pattern.
    public init(_ text: String) throws(ParseError) {
        func fail(_ expected: String) -> ParseError { ParseError(input: text, expected: expected) }

        guard !text.isEmpty else { throw fail("a host name") }
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0 == "\u{7F}" })
        else { throw fail("a host without whitespace or control characters") }
        guard !text.contains("://") else { throw fail("a host without a scheme") }
        guard !text.contains(where: { "/?#".contains($0) }) else { throw fail("a host without a path") }
        guard !text.contains("@") else { throw fail("a host without user info") }

        // Split off the port: after `]` for IPv6 literals, after the only `:` otherwise.
        let hostText: Substring
        let portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("an IPv6 address in brackets, like [::1]") }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.hasPrefix(":") {
                portText = rest.dropFirst()
            } else {
                throw fail("only :port after an IPv6 address in brackets")
            }
            guard let canonical = IPv6Literal.canonical(String(hostText).lowercased()) else {
                throw fail("a valid IPv6 address in brackets, like [::1]")
            }
            self.host = canonical
            self.isWildcard = false
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 { throw fail("an IPv6 address in brackets, like [::1]") }
            if let colon = text.firstIndex(of: ":") {
                hostText = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                hostText = text[...]
                portText = nil
            }
            let lowered = hostText.lowercased()
            if lowered.hasPrefix("*.") {
                let suffix = String(lowered.dropFirst(2))
                guard !suffix.isEmpty, !suffix.contains("*") else {
                    throw fail("a wildcard of the form *.domain")
                }
                guard Self.isDNSName(suffix) else { throw fail("a wildcard of the form *.domain") }
                self.host = suffix
                self.isWildcard = true
            } else {
                guard !lowered.contains("*") else {
                    throw fail("a wildcard only as a leading \"*.\" followed by a domain")
                }
                guard !lowered.isEmpty else { throw fail("a host name before the port") }
                guard Self.isDNSName(lowered) else {
                    throw fail("a host name of letters, digits, '-', '_' and single dots")
                }
                self.host = lowered
                self.isWildcard = false
            }
        }

        if let portText {
            guard (1...5).contains(portText.utf8.count), portText.utf8.allSatisfy(ConfigText.isASCIIDigit),
                let port = Int(portText), (1...65535).contains(port)
            else { throw fail("a port from 1 to 65535") }
            self.port = port
        } else {
            self.port = nil
        }
    }

    /// The file form: `api.github.com`, `*.example.com:8443`, `[::1]:8443`.
    public var description: String {
        var text = isWildcard ? "*.\(host)" : host
        if host.contains(":") { text = "[\(text)]" }
        if let port { text += ":\(port)" }
        return text
    }

    /// Whether a request to `host` on `port` belongs to this pattern.
    ///
    /// `host` is compared case-insensitively; IPv6 literals may be given with or without brackets and in any
    /// valid spelling. A host with a trailing dot does not match (the proxy should not guess).
    public func matches(host requestHost: String, port requestPort: Int, isTLS: Bool) -> Bool {
        matches(normalisedHost: Self.normalisedRequestHost(requestHost), port: requestPort, isTLS: isTLS)
    }

    /// ``matches(host:port:isTLS:)`` for a host already through ``normalisedRequestHost(_:)``, so a
    /// route table normalises a request's host once, not once per route.
    func matches(normalisedHost candidate: String, port requestPort: Int, isTLS: Bool) -> Bool {
        guard requestPort == (port ?? (isTLS ? 443 : 80)) else { return false }
        if isWildcard {
            return candidate.utf8.count > host.utf8.count + 1 && candidate.hasSuffix(".\(host)")
                && Self.isDNSName(candidate)
        }
        return candidate == host
    }

    /// Lowercased, without IPv6 brackets, IPv6 in canonical form.
    static func normalisedRequestHost(_ host: String) -> String {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = String(text.dropFirst().dropLast())
        }
        if text.utf8.contains(UInt8(ascii: ":")), let canonical = IPv6Literal.canonical(text) {
            return canonical
        }
        return text
    }

    private static func isDNSName(_ name: String) -> Bool {
        guard name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count)
                && label.utf8.allSatisfy { byte in
                    ConfigText.isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                }
        }
    }
}
