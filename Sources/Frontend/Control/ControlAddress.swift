/// Where the control listener listens (`--control`): a unix socket, or `HOST:PORT` on TCP.
public enum ControlAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(ListenAddress)

    /// `unix:PATH` or `HOST:PORT` (IPv6 in brackets); nil for anything else.
    public init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard !path.isEmpty, !path.contains("\0") else { return nil }
            self = .unix(path: path)
        } else if let address = ListenAddress(parsing: text) {
            self = .tcp(address)
        } else {
            return nil
        }
    }

    /// The default: `unix:<state-dir>/control.sock`.
    public static func defaultSocket(stateDirectory: String) -> ControlAddress {
        .unix(path: stateDirectory.hasSuffix("/") ? stateDirectory + "control.sock" : stateDirectory + "/control.sock")
    }

    public var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }

    /// As written on the command line and in the boot line.
    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let address): address.description
        }
    }
}
