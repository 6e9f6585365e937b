/// How a scan ended.
public enum ScanStatus: UInt8, Sendable, Hashable, CaseIterable {
    /// Every segment was scanned with every requested detector; the findings are complete.
    case ok = 0
    /// A detector hit its PCRE2 match or depth limit: the scan is incomplete and must be treated as
    /// failed (fail closed), never as clean.
    case limitExceeded = 1
    /// The scan could not run (unknown detector id, a match error, a reply too large, ...).
    case error = 2
}
