/// The message type byte of a frame.
enum MessageType: UInt8, CaseIterable {
    case scanRequest = 1
    case workerReady = 2
    case scanReply = 3
}
