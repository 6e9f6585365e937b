import NIOCore
import NIOWebSocket

/// The last handler of one upgraded connection (the agent's or the upstream's): reports its frames,
/// decoding errors, writability and close to the ``WebSocketRelay`` both legs share. Both channels
/// run on one event loop, so the relay needs no locks.
final class WebSocketLegHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias Side = WebSocketRelayStateMachine.Side

    private let side: Side
    private let relay: WebSocketRelay
    private let maxFrameBytes: Int

    init(side: Side, relay: WebSocketRelay, maxFrameBytes: Int) {
        self.side = side
        self.relay = relay
        self.maxFrameBytes = maxFrameBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        relay.handle(.frame(from: side, unwrapInboundIn(data)))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        relay.handle(.writabilityChanged(side, isWritable: context.channel.isWritable))
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? NIOWebSocketError else {
            // TLS and socket errors: the connection is gone, which its close reports.
            context.close(promise: nil)
            return
        }
        switch error {
        case .invalidFrameLength:
            relay.handle(.undecodable(from: side, code: .messageTooLarge, problem: "a frame larger than \(maxFrameBytes) bytes"))
        case .fragmentedControlFrame:
            relay.handle(.undecodable(from: side, code: .protocolError, problem: "a fragmented control frame"))
        case .multiByteControlFrameLength:
            relay.handle(.undecodable(from: side, code: .protocolError, problem: "a control frame over 125 bytes"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay.handle(.closed(side))
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension WebSocketLegHandler: Sendable {}
