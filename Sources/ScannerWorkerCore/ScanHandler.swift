import Detectors
import IPC

/// Answers one scan request with a detection engine: pure computation, no I/O, so it runs the same in
/// the sandboxed worker and in a unit test.
public struct ScanHandler {
    private let engine: DetectionEngine
    /// The last request's detectors, resolved: a route sends the same list every time.
    private let lastSelection = SelectionCache()

    private final class SelectionCache {
        var selection: ResolvedDetectors?
    }

    public init(engine: DetectionEngine) {
        self.engine = engine
    }

    /// Scans every segment on its own with the requested detectors.
    ///
    /// A limit hit in any segment makes the whole reply ``ScanStatus/limitExceeded``; an unknown
    /// detector id or a PCRE2 error makes it ``ScanStatus/error``. Failure messages name a detector id
    /// at most, never scanned bytes. Redacted segments are returned only when asked for and the scan
    /// is complete.
    public func reply(to request: ScanRequest) -> ScanReply {
        guard ScanDirection(rawValue: request.direction) != nil else {
            return ScanReply(id: request.id, status: .error, message: "invalid direction \(request.direction)")
        }
        // Resolving the ids is also where an unknown one is found (the reply names the first).
        let selection: ResolvedDetectors
        if let last = lastSelection.selection, last.detectorIDs == request.detectorIDs {
            selection = last
        } else {
            do throws(DetectionError) {
                selection = try engine.selection(detectorIDs: request.detectorIDs)
            } catch {
                return ScanReply(id: request.id, status: .error, message: Self.message(for: error))
            }
            lastSelection.selection = selection
        }
        var findings: [WireFinding] = []
        var redacted: [[UInt8]] = []
        if request.redact {
            redacted.reserveCapacity(request.segments.count)
        }
        for (index, segment) in request.segments.enumerated() {
            let segmentFindings: [Finding]
            do throws(DetectionError) {
                segmentFindings = try engine.scan(segment, selection: selection)
            } catch {
                let status: ScanStatus = if case .limitExceeded = error { .limitExceeded } else { .error }
                return ScanReply(id: request.id, status: status, message: Self.message(for: error))
            }
            for finding in segmentFindings {
                findings.append(
                    WireFinding(
                        detectorID: finding.detectorID,
                        segment: UInt32(index),
                        start: UInt64(finding.start),
                        end: UInt64(finding.end)
                    )
                )
            }
            if request.redact {
                redacted.append(Redactor.redact(segment, findings: segmentFindings))
            }
        }
        return ScanReply(
            id: request.id,
            status: .ok,
            findings: findings,
            redactedSegments: request.redact ? redacted : nil
        )
    }

    /// ``reply(to:)`` as a frame. A reply that cannot be encoded (more findings than the protocol
    /// allows, or a frame over `maxFrameSize`) becomes an ``ScanStatus/error`` reply: the scan fails
    /// closed rather than the worker crashing.
    public func replyFrame(to request: ScanRequest, maxFrameSize: Int = WireProtocol.defaultMaxFrameSize) -> [UInt8] {
        let reply = reply(to: request)
        do throws(FrameError) {
            return try reply.encodedFrame(maxFrameSize: maxFrameSize)
        } catch {
            let fallback = ScanReply(id: request.id, status: .error, message: "reply not sent: \(error)")
            // An error reply has no findings or segments: it always fits.
            return (try? fallback.encodedFrame(maxFrameSize: maxFrameSize)) ?? []
        }
    }

    static func message(for error: DetectionError) -> String {
        switch error {
        case .limitExceeded(let detectorID):
            "match limit exceeded in detector \(detectorID)"
        case .unknownDetector(let detectorID):
            "unknown detector \(detectorID)"
        case .matchFailed(let detectorID, let code):
            "detector \(detectorID) failed with PCRE2 error \(code)"
        }
    }
}
