/// A detector-id list in its wire form (the count field and the length-prefixed strings), checked
/// against the protocol's limits and encoded once.
///
/// A route sends the same dozens of ids with every scan; sizing, checking and writing them string
/// by string for each request cost more than the rest of a small scan request's encoding.
public struct EncodedDetectorIDs: Sendable, Equatable {
    public let ids: [String]
    /// The section as written into a scan request.
    let section: [UInt8]

    /// Throws ``FrameError/countTooLarge(field:count:)`` for more ids than the protocol allows or
    /// an id longer than its string limit, as encoding a ``ScanRequest`` with them would.
    public init(_ ids: [String]) throws(FrameError) {
        guard ids.count <= WireProtocol.maxDetectorIDs else {
            throw .countTooLarge(field: "detector ids", count: UInt32(clamping: ids.count))
        }
        for id in ids where id.utf8.count > WireProtocol.maxStringLength {
            throw .countTooLarge(field: "detector id", count: UInt32(clamping: id.utf8.count))
        }
        var writer = WireWriter(reservingCapacity: 4 + ids.reduce(0) { $0 + encodedSize($1) })
        writer.writeCount(ids.count)
        for id in ids { writer.write(id) }
        self.ids = ids
        section = writer.bytes
    }

    /// The bytes the section takes in a frame.
    public var byteCount: Int { section.count }
}
