import NIOHTTP1

/// How a request's body is delimited, decided once from the agent's head (as NIO's decoder parsed
/// it) and written explicitly on the upstream head. The upstream encoder runs with automatic framing
/// off, so no method (`TRACE`, `GET`, …) and no header the agent named in `Connection` can change
/// what the upstream parses: a request with a body always goes upstream framed.
enum RequestBodyFraming: Equatable {
    case noBody
    case contentLength(Int)
    case chunked

    /// The framing NIO's request decoder applied: chunked wins over a length (RFC 9112 §6.3).
    /// `nil` when a `Content-Length` is present but not a length this proxy can write back exactly
    /// (NIO's parser accepts trailing whitespace and values beyond `Int`): such a request must be
    /// refused, never forwarded unframed. ``RequestScreening`` refuses it before routing.
    init?(_ head: HTTPRequestHead) {
        if head.headers[canonicalForm: "transfer-encoding"].contains(where: { $0.lowercased() == "chunked" }) {
            self = .chunked
            return
        }
        let lengths = head.headers[canonicalForm: "content-length"]
        guard let first = lengths.first else {
            self = .noBody
            return
        }
        guard let length = Self.length(first) else { return nil }
        self = .contentLength(length)
    }

    /// A Content-Length value: ASCII digits only (surrounding spaces and tabs allowed), fitting an `Int`.
    static func length<S: StringProtocol>(_ value: S) -> Int? {
        let digits = value.trimmingASCIISpaces()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(digits)
    }

    /// Replaces every framing header of `headers` with exactly this framing.
    func apply(to headers: inout HTTPHeaders) {
        headers.remove(name: "content-length")
        headers.remove(name: "transfer-encoding")
        switch self {
        case .noBody: break
        case .contentLength(let length): headers.add(name: "content-length", value: String(length))
        case .chunked: headers.add(name: "transfer-encoding", value: "chunked")
        }
    }
}
