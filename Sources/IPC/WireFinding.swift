/// One match in a scan reply: which detector, in which segment of the request, at which byte range.
public struct WireFinding: Sendable, Hashable {
    public var detectorID: String
    /// The index of the segment in the request's `segments`.
    public var segment: UInt32
    /// The first byte of the match in its segment.
    public var start: UInt64
    /// One past the last byte of the match; never before `start`.
    public var end: UInt64

    public init(detectorID: String, segment: UInt32, start: UInt64, end: UInt64) {
        self.detectorID = detectorID
        self.segment = segment
        self.start = start
        self.end = end
    }

    /// The encoded size of a finding with an empty detector id: the least a finding takes on the wire.
    static let minimumEncodedSize = 4 + 4 + 8 + 8

    var encodedSize: Int { Self.minimumEncodedSize + detectorID.utf8.count }
}
