import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// What an upstream connection reports to the exchange currently using it. Called on the event
/// loop both channels share.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamDidReceive(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    func upstreamDidClose(error: (any Error)?)
}

/// The last handler of an upstream pipeline: reports readiness (TLS handshake done) once, then
/// relays response parts to whichever exchange holds the connection.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    weak var receiver: (any UpstreamResponseReceiver)?
    /// Called once when the channel closes, so the pool can forget an idle connection.
    var onClose: (() -> Void)?

    private let ready: EventLoopPromise<Void>
    /// Succeeds once the connection can carry a request (after the TLS handshake on TLS legs).
    var readyFuture: EventLoopFuture<Void> { ready.futureResult }
    private let waitsForTLS: Bool
    private var firstError: (any Error)?

    init(ready: EventLoopPromise<Void>, waitsForTLS: Bool) {
        self.ready = ready
        self.waitsForTLS = waitsForTLS
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A failed connect tears the pipeline down without channelInactive.
        ready.fail(firstError ?? ChannelError.ioOnClosedChannel)
    }

    func channelActive(context: ChannelHandlerContext) {
        if !waitsForTLS { ready.succeed() }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { ready.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let receiver else {
            // A response part while no exchange holds the connection: an answer nobody asked for.
            // The connection's state is unknown, so it is never reused.
            context.close(promise: nil)
            return
        }
        receiver.upstreamDidReceive(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream the server refused (RFC 9113 §8.7: not processed) closes as cleanly as an idle
        // connection the server closed: the exchange may send its request again.
        if let closed = error as? NIOHTTP2Errors.StreamClosed, closed.errorCode == .refusedStream {
            context.close(promise: nil)
            return
        }
        if firstError == nil { firstError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(firstError ?? ChannelError.ioOnClosedChannel)
        let receiver = self.receiver
        self.receiver = nil
        receiver?.upstreamDidClose(error: firstError)
        onClose?()
        onClose = nil
    }
}

@available(*, unavailable)
extension UpstreamHandler: Sendable {}
