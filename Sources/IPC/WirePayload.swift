/// A message's payload: how it is sized, checked, written and read.
protocol WirePayload {
    static var messageType: MessageType { get }
    /// The exact number of payload bytes `write(to:)` appends.
    var payloadSize: Int { get }
    /// Throws if a count or string exceeds a protocol limit, so a frame is never written that the
    /// other end would reject.
    func validateForEncoding() throws(FrameError)
    func write(to writer: inout WireWriter)
    static func read(from reader: inout WireReader) throws(FrameError) -> Self
}
