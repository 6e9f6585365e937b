/// Replaces findings with `[REDACTED:<detector_id>]`.
public enum Redactor {
    /// Replaces every finding's range with `[REDACTED:<detector_id>]`. Overlapping or adjacent
    /// findings are merged into one replacement, labelled with the id of the earliest-starting
    /// finding (on a tie, the longest). Ranges are clamped to the buffer; empty ones are ignored.
    public static func redact(_ bytes: [UInt8], findings: [Finding]) -> [UInt8] {
        let ranges = mergedRanges(findings, count: bytes.count)
        guard !ranges.isEmpty else {
            return bytes
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + ranges.count * 24)
        var position = 0
        for range in ranges {
            output.append(contentsOf: bytes[position..<range.start])
            output.append(contentsOf: marker(for: range.detectorID))
            position = range.end
        }
        output.append(contentsOf: bytes[position...])
        return output
    }

    /// The replacement text for one detector id.
    public static func marker(for detectorID: String) -> [UInt8] {
        Array("[REDACTED:\(detectorID)]".utf8)
    }

    /// Clamped, sorted, merged ranges: what ``redact(_:findings:)`` replaces.
    static func mergedRanges(_ findings: [Finding], count: Int) -> [Finding] {
        let clamped = findings.compactMap { finding -> Finding? in
            let start = min(max(finding.start, 0), count)
            let end = min(max(finding.end, 0), count)
            return start < end ? Finding(detectorID: finding.detectorID, start: start, end: end) : nil
        }
        let sorted = clamped.sorted { lhs, rhs in
            if lhs.start != rhs.start {
                return lhs.start < rhs.start
            }
            if lhs.end != rhs.end {
                return lhs.end > rhs.end
            }
            return lhs.detectorID < rhs.detectorID
        }
        var merged: [Finding] = []
        for finding in sorted {
            if let last = merged.last, finding.start <= last.end {
                if finding.end > last.end {
                    merged[merged.count - 1] = Finding(detectorID: last.detectorID, start: last.start, end: finding.end)
                }
            } else {
                merged.append(finding)
            }
        }
        return merged
    }
}
