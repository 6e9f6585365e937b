import EgressRoutes

/// `--listen HOST:PORT` (IPv6 in brackets). Port 0 asks the kernel for a free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(parsing text: String) {
        guard let parsed = HostPort(parsing: text, portRequired: true, allowsPortZero: true), let port = parsed.port
        else { return nil }
        self.init(host: parsed.host, port: port)
    }

    public var description: String { HostPort(host: host, port: port).description }
}
