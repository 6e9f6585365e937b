import NIOCore
import NIOHTTP1

/// Turns a body as sent (`Content-Encoding` applied) into the bytes DLP scans, with a bound on the
/// decoded size so a small compressed bomb cannot make the proxy allocate without limit.
enum BodyDecoding {
    enum Failure: Error, Equatable {
        case unsupported(String)
        /// The coding, and what was wrong: corrupt, truncated, or bytes after the stream.
        case corrupt(String, problem: String)
        case tooLarge(limit: Int)
        case tooManyCodings(Int)

        var reason: String {
            switch self {
            case .unsupported(let coding): "egress DLP: cannot scan a body with content-encoding \(coding)"
            case .corrupt(let coding, let problem):
                "egress DLP: cannot decode the \(coding) body for scanning (\(problem))"
            case .tooLarge(let limit): "egress DLP: body too large to scan (over \(limit) bytes)"
            case .tooManyCodings(let count):
                "egress DLP: cannot scan a body with \(count) content codings (at most \(BodyDecoding.maximumCodings))"
            }
        }
    }

    static let maximumCodings = 3

    /// The codings this proxy decodes, in the form `Accept-Encoding` names them.
    static let decodable: Set<String> = ["gzip", "x-gzip", "deflate", "identity"]

    /// The codings named by `Content-Encoding`, outermost last (RFC 9110 §8.4).
    static func codings(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "content-encoding"].map { $0.lowercased().trimmingASCIISpaces() }
            .filter { !$0.isEmpty && $0 != "identity" }
    }

    /// The body with every coding its `Content-Encoding` headers name removed (see below).
    static func decode(_ body: ByteBuffer, headers: HTTPHeaders, limit: Int) throws(Failure) -> ByteBuffer {
        try decode(body, codings: codings(headers), limit: limit)
    }

    /// The body with every content coding removed, outermost first; each stream must be whole
    /// (``Inflate``), and no step may produce more than `limit` bytes.
    static func decode(_ body: ByteBuffer, codings: [String], limit: Int) throws(Failure) -> ByteBuffer {
        // Real bodies carry one coding, two at most; a stack of them only costs CPU.
        guard codings.count <= maximumCodings else { throw .tooManyCodings(codings.count) }
        var current = body
        for coding in codings.reversed() {
            let format: Inflate.Format
            switch coding {
            case "gzip", "x-gzip": format = .gzip
            case "deflate": format = Inflate.deflateFormat(of: current)
            default: throw .unsupported(coding)
            }
            do {
                current = try Inflate.decompress(current, format: format, limit: limit)
            } catch {
                switch error {
                case .tooLarge: throw .tooLarge(limit: limit)
                case .corrupt: throw .corrupt(coding, problem: "corrupt data")
                case .truncated: throw .corrupt(coding, problem: "truncated")
                case .trailingBytes: throw .corrupt(coding, problem: "bytes after the end of the stream")
                }
            }
        }
        guard current.readableBytes <= limit else { throw .tooLarge(limit: limit) }
        return current
    }

    /// Narrows the agent's `Accept-Encoding` to codings the proxy can decode, so responses on a
    /// route with inbound DLP stay scannable.
    static func narrowAcceptEncoding(_ headers: inout HTTPHeaders) {
        let offered = headers[canonicalForm: "accept-encoding"]
        guard !offered.isEmpty else { return }
        let kept = offered.filter { token in
            let name = token.split(separator: ";").first.map { $0.lowercased().trimmingASCIISpaces() } ?? ""
            return decodable.contains(name)
        }
        headers.remove(name: "accept-encoding")
        headers.add(name: "accept-encoding", value: kept.isEmpty ? "identity" : kept.joined(separator: ", "))
    }
}
