import Detectors

/// One fetched document as inbound DLP sees it, for the evaluation and the benchmark: the text as
/// most decoded (``DecodedViews`` with `inbound`, its leaves), and the severity the
/// findings in them add up to (``InjectionAssessment``). The proxy does the same through its
/// scanner workers.
public enum InboundDocument {
    /// The segments an inbound scan of `bytes` covers; throws what the proxy would refuse.
    public static func segments(_ bytes: [UInt8]) throws -> [[UInt8]] {
        do {
            return try DecodedViews(raw: [bytes], inbound: true).inboundSegments
        } catch {
            throw InboundDocumentError(reason: error.reason)
        }
    }

    /// The detectors that fire in `bytes` (once each) and the document's severity, scanned in
    /// this process with `engine`.
    public static func judge(
        _ bytes: [UInt8],
        engine: DetectionEngine,
        detectorIDs: [String] = DetectorCatalog.defaultIDs(for: .inbound)
    ) throws -> (detectors: [String], severity: InjectionSeverity?) {
        var found = Set<String>()
        for segment in try segments(bytes) {
            for finding in try engine.scan(segment, detectorIDs: detectorIDs) { found.insert(finding.detectorID) }
        }
        return (found.sorted(), InjectionAssessment.score(found))
    }
}

public struct InboundDocumentError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
