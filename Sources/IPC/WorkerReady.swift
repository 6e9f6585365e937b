/// Worker → frontend, sent exactly once, after the worker compiled its detectors and locked itself
/// down, before it reads any request. Payload layout:
///
/// ```
/// UInt8 protocol version | UInt32 detector count | UInt8 fault injection (0/1) | Int32 pid
/// ```
public struct WorkerReady: Sendable, Hashable {
    /// The worker's ``WireProtocol/version``.
    public var protocolVersion: UInt8
    /// How many detectors the worker compiled.
    public var detectorCount: UInt32
    /// `true` only for the test-only fault-injecting worker; a frontend in production refuses it.
    public var faultInjection: Bool
    /// The worker's process id, as the worker sees it.
    public var pid: Int32

    public init(
        protocolVersion: UInt8 = WireProtocol.version,
        detectorCount: UInt32,
        faultInjection: Bool,
        pid: Int32
    ) {
        self.protocolVersion = protocolVersion
        self.detectorCount = detectorCount
        self.faultInjection = faultInjection
        self.pid = pid
    }

    /// This message as a frame ready to write to the socket.
    public func encodedFrame() throws(FrameError) -> [UInt8] {
        try WireMessage.workerReady(self).encodedFrame()
    }
}

extension WorkerReady: WirePayload {
    static var messageType: MessageType { .workerReady }

    var payloadSize: Int { 1 + 4 + 1 + 4 }

    func validateForEncoding() throws(FrameError) {}

    func write(to writer: inout WireWriter) {
        writer.write(protocolVersion)
        writer.write(detectorCount)
        writer.write(faultInjection)
        writer.write(UInt32(bitPattern: pid))
    }

    static func read(from reader: inout WireReader) throws(FrameError) -> WorkerReady {
        WorkerReady(
            protocolVersion: try reader.readUInt8("protocol version"),
            detectorCount: try reader.readUInt32("detector count"),
            faultInjection: try reader.readBool("fault injection"),
            pid: Int32(bitPattern: try reader.readUInt32("pid"))
        )
    }
}
