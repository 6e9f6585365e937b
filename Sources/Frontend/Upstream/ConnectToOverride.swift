import EgressRoutes

/// `--connect-to HOST:PORT:ADDR:PORT2`: connections for HOST:PORT go to ADDR:PORT2 instead, while
/// TLS still verifies the certificate for HOST (like curl's option of the same name).
public struct ConnectToOverride: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var address: String
    public var addressPort: Int

    public init(host: String, port: Int, address: String, addressPort: Int) {
        self.host = host
        self.port = port
        self.address = address
        self.addressPort = addressPort
    }

    /// Parses `HOST:PORT:ADDR:PORT2`: two ``HostPort``s joined by a colon, IPv6 literals in brackets
    /// (`[::1]`), each port from 1 to 65535.
    public init(parsing text: String) throws(ConnectToOverrideError) {
        guard let separator = Self.separator(in: Substring(text)) else {
            throw ConnectToOverrideError(text: text, problem: "expected four fields HOST:PORT:ADDR:PORT2")
        }
        guard let from = HostPort(parsing: text[..<separator], portRequired: true), let port = from.port else {
            throw ConnectToOverrideError(text: text, problem: "HOST:PORT must be a host and a port from 1 to 65535")
        }
        guard let to = HostPort(parsing: text[text.index(after: separator)...], portRequired: true),
            let addressPort = to.port
        else {
            throw ConnectToOverrideError(text: text, problem: "ADDR:PORT2 must be an address and a port from 1 to 65535")
        }
        self.init(host: from.host.lowercased(), port: port, address: to.host, addressPort: addressPort)
    }

    /// The colon between `HOST:PORT` and `ADDR:PORT2`: the first one after the first pair's port.
    private static func separator(in text: Substring) -> Substring.Index? {
        var rest = text
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            rest = rest[close...]
        }
        guard let portColon = rest.firstIndex(of: ":") else { return nil }
        return rest[rest.index(after: portColon)...].firstIndex(of: ":")
    }
}

public struct ConnectToOverrideError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let problem: String
    public var description: String { "--connect-to \(text): \(problem)" }
}
