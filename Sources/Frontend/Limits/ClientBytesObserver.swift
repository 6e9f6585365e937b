import NIOCore

/// Sent down an agent connection's pipeline whenever raw bytes arrive, before any decoding, so
/// connection deadlines can tell an idle connection from a slow request (``ConnectionDeadlines``).
struct ClientBytesArrived: Sendable {}

/// The first handler of an agent connection: reports that bytes arrived, then passes them on.
/// It stays in place when a CONNECT turns the connection into a TLS tunnel.
final class ClientBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(ClientBytesArrived())
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ClientBytesObserver: Sendable {}
