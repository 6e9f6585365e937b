/// A message's payload as it is encoded: sized, checked and written.
protocol WireEncodable {
    static var messageType: MessageType { get }
    /// The exact number of payload bytes `write(to:)` appends.
    var payloadSize: Int { get }
    /// Throws if a count or string exceeds a protocol limit, so a frame is never written that the
    /// other end would reject.
    func validateForEncoding() throws(FrameError)
    func write(to writer: inout WireWriter)
}

/// A message's payload: encoded, and read back.
protocol WirePayload: WireEncodable {
    static func read(from reader: inout WireReader) throws(FrameError) -> Self
}
