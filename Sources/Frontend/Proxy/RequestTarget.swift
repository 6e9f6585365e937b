import EgressRoutes

/// Where an agent's request goes: host (lowercased; IPv6 without brackets), port and whether the
/// upstream leg is TLS.
public struct UpstreamTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var isTLS: Bool

    public init(host: String, port: Int, isTLS: Bool) {
        self.host = host
        self.port = port
        self.isTLS = isTLS
    }

    var defaultPort: Int { isTLS ? 443 : 80 }

    /// `host` as it appears in URLs and `Host` headers (IPv6 in brackets).
    var hostForURL: String { HostPort.bracketed(host) }

    /// The `Host` header value: the port is left out when it is the scheme's default.
    var hostHeader: String { port == defaultPort ? hostForURL : "\(hostForURL):\(port)" }

    /// `scheme://host:port`, lower-cased, the port always written.
    var origin: String { "\(isTLS ? "https" : "http")://\(hostForURL.lowercased()):\(port)" }

    /// The host as events and reasons name it.
    public var description: String { hostHeader }
}

/// Parses request targets (RFC 9112 §3.2) as a forward proxy sees them.
enum RequestTargetParser {
    enum Failure: Error, Equatable {
        case malformed
        case userinfo
        case unsupportedScheme
    }

    /// `CONNECT host:port`; the port is required by RFC 9112 but defaults to 443 for lenient clients.
    static func parseAuthority(_ authority: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        if authority.utf8.contains(UInt8(ascii: "@")) { return nil }
        guard let parsed = HostPort(parsing: authority, portRequired: false) else { return nil }
        var host = Substring(parsed.host)
        if authority.hasPrefix("[") {
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            if host.hasSuffix(".") { host = host.dropLast() }
            guard !host.isEmpty, host.utf8.allSatisfy(isHostByte) else { return nil }
        }
        return (host.lowercased(), parsed.port ?? defaultPort)
    }

    /// `GET http://host[:port]/path?query` → the target and the origin-form path to send upstream.
    static func parseAbsoluteForm(_ uri: String) -> Result<(UpstreamTarget, originForm: String), Failure> {
        let isTLS: Bool
        let rest: Substring
        let lowered = uri.prefix(8).lowercased()
        if lowered.hasPrefix("http://") {
            isTLS = false
            rest = uri.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            isTLS = true
            rest = uri.dropFirst(8)
        } else if uri.contains("://") {
            return .failure(.unsupportedScheme)
        } else {
            return .failure(.malformed)
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if authority.utf8.contains(UInt8(ascii: "@")) { return .failure(.userinfo) }
        guard let (host, port) = parseAuthority(authority, defaultPort: isTLS ? 443 : 80) else {
            return .failure(.malformed)
        }
        var path = String(rest[authorityEnd...])
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        return .success((UpstreamTarget(host: host, port: port, isTLS: isTLS), path))
    }

    /// Inside a tunnel the target is origin-form; absolute-form naming the tunnel's own host is
    /// accepted too (RFC 9112 §3.2.2 says servers must accept it).
    static func originForm(_ uri: String, tunnel: UpstreamTarget) -> String? {
        if uri.hasPrefix("/") { return uri }
        if case .success(let (target, path)) = parseAbsoluteForm(uri), target.host == tunnel.host,
            target.port == tunnel.port
        {
            return path
        }
        return nil
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
