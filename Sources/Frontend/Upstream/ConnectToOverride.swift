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

    /// Parses `HOST:PORT:ADDR:PORT2`; IPv6 literals go in brackets (`[::1]`).
    public init(parsing text: String) throws(ConnectToOverrideError) {
        var fields: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            var field: Substring
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else {
                    throw ConnectToOverrideError(text: text, problem: "unclosed '['")
                }
                field = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ":") ?? rest.endIndex
                field = rest[..<end]
                rest = rest[end...]
            }
            fields.append(String(field))
            if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                if rest.isEmpty { fields.append("") }
            } else if !rest.isEmpty {
                throw ConnectToOverrideError(text: text, problem: "expected ':' after '\(field)'")
            }
        }
        guard fields.count == 4 else {
            throw ConnectToOverrideError(text: text, problem: "expected four fields HOST:PORT:ADDR:PORT2")
        }
        guard !fields[0].isEmpty, !fields[2].isEmpty else {
            throw ConnectToOverrideError(text: text, problem: "HOST and ADDR must not be empty")
        }
        guard let port = Int(fields[1]), (1...65535).contains(port),
            let addressPort = Int(fields[3]), (1...65535).contains(addressPort)
        else {
            throw ConnectToOverrideError(text: text, problem: "PORT and PORT2 must be numbers from 1 to 65535")
        }
        self.init(host: fields[0].lowercased(), port: port, address: fields[2], addressPort: addressPort)
    }
}

public struct ConnectToOverrideError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let problem: String
    public var description: String { "--connect-to \(text): \(problem)" }
}
