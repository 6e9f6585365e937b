/// One confirmed detector hit: the byte range of the secret itself (the captured value, not
/// the surrounding keyword context) in the scanned buffer. `end` is exclusive.
public struct Finding: Sendable, Equatable, Hashable {
    public let detectorID: String
    public let start: Int
    public let end: Int

    public init(detectorID: String, start: Int, end: Int) {
        self.detectorID = detectorID
        self.start = start
        self.end = end
    }

    /// Number of bytes covered.
    public var length: Int { end - start }
}
