/// A host and an optional port as written in URLs, `Host` headers, request targets and flags
/// (`--listen`, `--control`): IPv6 literals in brackets. One type parses and prints them all, so
/// `[::1]:8080` means the same everywhere. Syntax only: callers check what a host may be (route
/// patterns, request targets), and addresses are compared after resolution, never as strings.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// Without brackets.
    public var host: String
    public var port: Int?

    public init(host: String, port: Int?) {
        self.host = host
        self.port = port
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`. A host with a colon must be bracketed. A port is
    /// 1–5 ASCII digits up to 65535 (0 only with `allowsPortZero`, for "pick a free port").
    public init?<S: StringProtocol>(parsing text: S, portRequired: Bool, allowsPortZero: Bool = false) {
        let text = Substring(text)
        let hostPart: Substring
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portPart = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { return nil }
        } else {
            hostPart = text
        }
        guard !hostPart.isEmpty else { return nil }
        var port: Int?
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5,
                portPart.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int(portPart), value <= 65535, value > 0 || allowsPortZero
            else { return nil }
            port = value
        } else if portRequired {
            return nil
        }
        self.init(host: String(hostPart), port: port)
    }

    /// `host` as URLs and `Host` headers write it: an IPv6 literal in brackets.
    public static func bracketed(_ host: String) -> String {
        host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
    }

    public var description: String {
        port.map { "\(Self.bracketed(host)):\($0)" } ?? Self.bracketed(host)
    }
}
