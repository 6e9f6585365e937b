import IPC

/// Whether a worker's reply fits the scan it answers (README, "The scanner pool"): a worker is
/// untrusted, so every segment index, byte range, detector id and redacted copy is checked before
/// the request path indexes anything with it. An inconsistent reply is a failed scan, and the
/// worker is replaced.
enum ScanReplyCheck {
    /// `nil` when the reply is consistent, else what is wrong (for the `egress_scanner` event; it
    /// names no scanned content).
    static func problem(with reply: ScanReply, for job: ScanJob) -> String? {
        // Most replies find nothing: the set is built only for one that does.
        let detectors = reply.findings.isEmpty ? [] : Set(job.detectorIDs)
        for finding in reply.findings {
            guard Int(exactly: finding.segment).map({ $0 < job.segments.count }) == true else {
                return "finding in segment \(finding.segment) of \(job.segments.count)"
            }
            let length = UInt64(job.segments[Int(finding.segment)].count)
            guard finding.start <= finding.end, finding.end <= length else {
                return "finding range \(finding.start)..<\(finding.end) outside a segment of \(length) bytes"
            }
            guard detectors.contains(finding.detectorID) else {
                return "finding from a detector the scan did not ask for"
            }
        }
        if let redacted = reply.redactedSegments {
            guard job.redact else { return "redacted segments nobody asked for" }
            guard redacted.count == job.segments.count else {
                return "\(redacted.count) redacted segments for \(job.segments.count)"
            }
        } else if job.redact && reply.status == .ok && !reply.findings.isEmpty {
            return "no redacted segments although redaction was asked for"
        }
        return nil
    }
}
