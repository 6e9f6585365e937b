import NIOHTTP1

/// How a request's body is delimited, decided once from the agent's head (as NIO's decoder parsed
/// it) and written explicitly on the upstream head. The upstream encoder runs with automatic framing
/// off, so no method (`TRACE`, `GET`, …) and no header the agent named in `Connection` can change
/// what the upstream parses: a request with a body always goes upstream framed.
enum RequestBodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked

    /// The framing NIO's request decoder applied: chunked wins over a length (RFC 9112 §6.3).
    init(_ head: HTTPRequestHead) {
        if head.headers[canonicalForm: "transfer-encoding"].contains(where: { $0.lowercased() == "chunked" }) {
            self = .chunked
        } else if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length >= 0 {
            self = .contentLength(length)
        } else {
            self = .none
        }
    }

    /// Replaces every framing header of `headers` with exactly this framing.
    func apply(to headers: inout HTTPHeaders) {
        headers.remove(name: "content-length")
        headers.remove(name: "transfer-encoding")
        switch self {
        case .none: break
        case .contentLength(let length): headers.add(name: "content-length", value: String(length))
        case .chunked: headers.add(name: "transfer-encoding", value: "chunked")
        }
    }
}
