import NIOCore
import NIOHTTP1

/// What an outbound scan covers (README, "DLP"): the request target (path and query), header values
/// except the credential the proxy injected, and the decoded body — one segment each, so a
/// finding can be mapped back and redacted where it was found.
struct OutboundScanPlan {
    static let targetSegment = 0

    private(set) var segments: [[UInt8]]
    /// Index into the head's headers of the header scanned as segment `1 + i`.
    private let headerIndices: [Int]
    private let bodySegment: Int?

    /// - Parameters:
    ///   - head: the request as it will go upstream (credential already injected).
    ///   - injectedHeader: the header the proxy wrote, which is never scanned.
    ///   - decodedBody: the body with any content coding removed.
    init(head: HTTPRequestHead, injectedHeader: String?, decodedBody: ByteBuffer?) {
        var segments: [[UInt8]] = [Array(head.uri.utf8)]
        var headerIndices: [Int] = []
        for (index, header) in head.headers.enumerated() where header.name.lowercased() != injectedHeader {
            headerIndices.append(index)
            segments.append(Array(header.value.utf8))
        }
        if let decodedBody, decodedBody.readableBytes > 0 {
            bodySegment = segments.count
            segments.append(Array(decodedBody.readableBytesView))
        } else {
            bodySegment = nil
        }
        self.segments = segments
        self.headerIndices = headerIndices
    }

    /// Which part of the request a segment is, for events.
    func part(ofSegment segment: Int) -> String {
        if segment == Self.targetSegment { return "path" }
        if segment == bodySegment { return "body" }
        return "header"
    }

    /// Rebuilds the request from the scanner's redacted segments. A redacted body is sent
    /// decoded: its content coding is dropped and its length set anew.
    func applyRedaction(
        _ redacted: [[UInt8]],
        to head: inout HTTPRequestHead,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer? {
        precondition(redacted.count == segments.count, "the scanner returned another number of segments")
        // Brackets are not allowed raw in a request target: keep the marker, percent-encoded.
        head.uri = String(decoding: redacted[Self.targetSegment], as: UTF8.self)
            .replacingBrackets()
        var headers = Array(head.headers)
        for (offset, index) in headerIndices.enumerated() {
            headers[index].value = String(decoding: redacted[1 + offset], as: UTF8.self)
        }
        head.headers = HTTPHeaders(headers)
        guard let bodySegment else { return nil }
        let body = allocator.buffer(bytes: redacted[bodySegment])
        head.headers.remove(name: "content-encoding")
        head.headers.remove(name: "transfer-encoding")
        head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        return body
    }
}

extension String {
    fileprivate func replacingBrackets() -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "[": out += "%5B"
            case "]": out += "%5D"
            default: out.append(character)
            }
        }
        return out
    }
}
