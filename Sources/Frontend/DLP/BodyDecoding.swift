import CompressNIO
import NIOCore
import NIOHTTP1

/// Turns a body as sent (`Content-Encoding` applied) into the bytes DLP scans, with a bound on the
/// decoded size so a small compressed bomb cannot make the proxy allocate without limit.
enum BodyDecoding {
    enum Failure: Error, Equatable {
        case unsupported(String)
        case corrupt(String)
        case tooLarge(limit: Int)

        var reason: String {
            switch self {
            case .unsupported(let coding): "egress DLP: cannot scan a body with content-encoding \(coding)"
            case .corrupt(let coding): "egress DLP: cannot decode the \(coding) body for scanning"
            case .tooLarge(let limit): "egress DLP: body too large to scan (over \(limit) bytes)"
            }
        }
    }

    /// The codings this proxy decodes, in the form `Accept-Encoding` names them.
    static let decodable: Set<String> = ["gzip", "x-gzip", "deflate", "identity"]

    /// The codings named by `Content-Encoding`, outermost last (RFC 9110 §8.4).
    static func codings(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "content-encoding"].map { $0.lowercased().trimmingASCIISpaces() }
            .filter { !$0.isEmpty && $0 != "identity" }
    }

    static func decode(_ body: ByteBuffer, codings: [String], limit: Int) throws(Failure) -> ByteBuffer {
        var current = body
        for coding in codings.reversed() {
            let algorithms: [CompressionAlgorithm]
            switch coding {
            case "gzip", "x-gzip": algorithms = [.gzip()]
            // HTTP "deflate" is zlib-wrapped, but some servers send raw deflate: accept both.
            case "deflate": algorithms = [.zlib(), .deflate()]
            default: throw .unsupported(coding)
            }
            current = try decode(current, algorithms: algorithms, coding: coding, limit: limit)
        }
        guard current.readableBytes <= limit else { throw .tooLarge(limit: limit) }
        return current
    }

    private static func decode(
        _ input: ByteBuffer,
        algorithms: [CompressionAlgorithm],
        coding: String,
        limit: Int
    ) throws(Failure) -> ByteBuffer {
        for algorithm in algorithms {
            var source = input
            do {
                return try source.decompress(with: algorithm, maxSize: limit)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw .tooLarge(limit: limit)
            } catch {
                continue
            }
        }
        throw .corrupt(coding)
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
