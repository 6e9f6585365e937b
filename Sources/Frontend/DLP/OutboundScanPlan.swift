import Detectors
import IPC
import NIOCore
import NIOHTTP1

/// What an outbound scan covers (README, "What is scanned"): the request target (path and query),
/// every header's name and value except the credential the proxy injected, and the decoded body —
/// one raw segment each — plus the decoded views of all of them (``DecodedViews``). Findings are
/// mapped back to the raw segments, so a secret is reported and redacted where it was sent,
/// however it was encoded.
struct OutboundScanPlan {
    static let targetSegment = 0

    /// The raw segments: the target, then each scanned header's name and value, then the body.
    private(set) var segments: [[UInt8]]
    /// Index into the head's headers of the header whose name is segment `1 + 2i` (value `2 + 2i`).
    private let headerIndices: [Int]
    private let bodySegment: Int?
    private let views: DecodedViews

    /// Everything the worker scans: the raw segments, then the views.
    var scanSegments: [[UInt8]] { views.segments }

    /// - Parameters:
    ///   - head: the request as it will go upstream (credential already injected).
    ///   - injectedHeader: the header the proxy wrote, which is never scanned.
    ///   - decodedBody: the body with any content coding removed.
    init(head: HTTPRequestHead, injectedHeader: String?, decodedBody: ByteBuffer?) throws(DecodedViews.Failure) {
        var segments: [[UInt8]] = [Array(head.uri.utf8)]
        var headerIndices: [Int] = []
        // Header names are tokens: the injected one is found by ASCII case, without lowercasing each.
        for (index, header) in head.headers.enumerated()
        where injectedHeader.map({ !ASCIICase.equals(header.name.utf8, lowercased: $0.utf8) }) ?? true {
            headerIndices.append(index)
            segments.append(Array(header.name.utf8))
            segments.append(Array(header.value.utf8))
        }
        // A query string is form-encoded too (`+` is a space there).
        var syntax: [Int: SegmentSyntax] = head.uri.utf8.contains(UInt8(ascii: "?")) ? [Self.targetSegment: .form] : [:]
        if let decodedBody, decodedBody.readableBytes > 0 {
            bodySegment = segments.count
            syntax[segments.count] = try SegmentSyntax.of(head.headers)
            segments.append(Array(decodedBody.readableBytesView))
        } else {
            bodySegment = nil
        }
        self.segments = segments
        self.headerIndices = headerIndices
        views = try DecodedViews(raw: segments, syntax: syntax)
    }

    /// The scanner's findings (in raw segments and views) as findings in the raw segments.
    func rawFindings(_ findings: [WireFinding]) -> [WireFinding] {
        views.rawFindings(findings)
    }

    /// Which part of the request a raw segment is, for events.
    func part(ofSegment segment: Int) -> String {
        if segment == Self.targetSegment { return "path" }
        if segment == bodySegment { return "body" }
        return segment % 2 == 1 ? "header name" : "header"
    }

    /// Rebuilds the request with every raw finding replaced by `[REDACTED:<detector>]`. A header
    /// whose name held a secret is dropped (a name cannot carry the marker). A redacted body is
    /// sent decoded: its content coding is dropped and its length set anew.
    func applyRedaction(
        _ findings: [WireFinding],
        to head: inout HTTPRequestHead,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer? {
        var bySegment: [Int: [Finding]] = [:]
        for finding in findings {
            bySegment[Int(finding.segment), default: []].append(
                Finding(detectorID: finding.detectorID, start: Int(finding.start), end: Int(finding.end))
            )
        }
        func redacted(_ segment: Int) -> [UInt8]? {
            bySegment[segment].map { Redactor.redact(segments[segment], findings: $0) }
        }
        if let target = redacted(Self.targetSegment) {
            // Brackets are not allowed raw in a request target: keep the marker, percent-encoded.
            head.uri = String(decoding: target, as: UTF8.self).replacingBrackets()
        }
        var headers = Array(head.headers)
        var dropped: Set<Int> = []
        for (offset, index) in headerIndices.enumerated() {
            if bySegment[1 + 2 * offset] != nil { dropped.insert(index) }
            if let value = redacted(2 + 2 * offset) { headers[index].value = String(decoding: value, as: UTF8.self) }
        }
        head.headers = HTTPHeaders(headers.enumerated().filter { !dropped.contains($0.offset) }.map(\.element))
        guard let bodySegment, let body = redacted(bodySegment) else { return nil }
        head.headers.remove(name: "content-encoding")
        head.headers.remove(name: "transfer-encoding")
        head.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        return allocator.buffer(bytes: body)
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
