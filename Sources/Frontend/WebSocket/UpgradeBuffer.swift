import NIOCore

/// Keeps the bytes that reach the end of a pipeline while its HTTP decoder is being removed after
/// an upgrade — the frames the decoder held back, and any read meanwhile — until the WebSocket
/// handlers are in place behind it; then hands them on in order and leaves.
///
/// The swap waits for both decoders to be gone before any WebSocket handler is added: NIO removes a
/// decoder in a later task, and until then a write would pass through the upstream's response
/// decoder, which watches writes for HTTP request parts only.
final class UpgradeBuffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var held: [ByteBuffer] = []
    private var closed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        context.fireChannelInactive()
    }

    /// Hands what it kept to the handlers now behind it, then leaves the pipeline.
    func release(context: ChannelHandlerContext) {
        for buffer in held { context.fireChannelRead(wrapInboundOut(buffer)) }
        held = []
        if !closed { context.fireChannelReadComplete() }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    typealias InboundOut = ByteBuffer
}

@available(*, unavailable)
extension UpgradeBuffer: Sendable {}
