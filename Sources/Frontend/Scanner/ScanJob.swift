import Detectors
import IPC

/// One scan the request path wants: the segments of a request or a response, the detectors the
/// route names, and whether redacted copies are wanted back.
struct ScanJob: Sendable {
    var direction: ScanDirection
    var detectorIDs: [String]
    var redact: Bool
    var segments: [[UInt8]]

    /// The bytes this scan keeps alive while queued and in flight: its segments, and the scan
    /// request encoded from them (the segments again with their length fields, and the detector
    /// ids), which the pool holds until the scan ends.
    var byteCount: Int {
        let segmentBytes = segments.reduce(0) { $0 + $1.count }
        let frameBytes = 32 + segmentBytes + 4 * segments.count + detectorIDs.reduce(0) { $0 + 4 + $1.utf8.count }
        return segmentBytes + frameBytes
    }
}

/// A completed scan: what was found where, and the redacted segments when they were asked for.
struct ScanOutcome: Sendable {
    var findings: [WireFinding]
    var redactedSegments: [[UInt8]]?

    var isClean: Bool { findings.isEmpty }
}

/// Why a scan gave no answer. Each of these refuses the traffic (fail closed).
enum ScanFailure: Error, Equatable {
    case unavailable
    case poisonBody
    case limitExceeded
    case workerError

    var status: Int {
        switch self {
        case .unavailable, .poisonBody, .workerError: 503
        case .limitExceeded: 403
        }
    }

    var reason: String {
        switch self {
        case .unavailable: "egress DLP: scanner unavailable"
        case .poisonBody: "egress DLP: scanner failed on this body"
        case .limitExceeded: "egress DLP: scan limit exceeded on this body"
        case .workerError: "egress DLP: scanner error"
        }
    }
}
