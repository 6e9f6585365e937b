/// Why a scan failed. Every case means "the buffer was not scanned": callers fail closed.
public enum DetectionError: Error, Equatable, Sendable {
    /// A PCRE2 match, depth, heap or JIT-stack limit was hit.
    case limitExceeded(detectorID: String)
    /// The requested detector id is not in the engine's catalog.
    case unknownDetector(String)
    /// PCRE2 reported an unexpected error code.
    case matchFailed(detectorID: String, code: Int32)
}

/// A detector definition that could not be compiled (or a catalog that is inconsistent).
public struct DetectorCompileError: Error, CustomStringConvertible, Sendable {
    public let detectorID: String
    public let message: String

    public init(detectorID: String, message: String) {
        self.detectorID = detectorID
        self.message = message
    }

    public var description: String {
        "detector \(detectorID): \(message)"
    }
}
