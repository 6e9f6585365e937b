import IPC
import NIOCore

/// Decodes frames from one worker's socket and reports them to the pool. Garbage ends the
/// conversation: the pool kills the worker.
final class WorkerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var decoder: FrameDecoder
    private let onMessage: (WireMessage) -> Void
    private let onViolation: () -> Void
    private let onClose: () -> Void

    init(
        maxFrameSize: Int,
        onMessage: @escaping (WireMessage) -> Void,
        onViolation: @escaping () -> Void,
        onClose: @escaping () -> Void
    ) {
        self.decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        self.onMessage = onMessage
        self.onViolation = onViolation
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decoder.hasFailed else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        do {
            while let message = try decoder.nextMessage() {
                onMessage(message)
            }
        } catch {
            onViolation()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WorkerChannelHandler: Sendable {}
