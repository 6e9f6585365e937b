import NIOCore
import NIOHTTP2

/// The last handler of an agent's HTTP/2 connection (behind `NIOHTTP2Handler`, whose multiplexer
/// gives each stream its own channel and ``ProxyRequestHandler``). It performs what
/// ``HTTP2ConnectionLifecycle`` decides: the idle deadline and the graceful stop.
final class AgentHTTP2ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private var lifecycle = HTTP2ConnectionLifecycle()
    private let idleTimeout: TimeAmount
    private var idleTimer: CoalescingTimer<Void>?
    private let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, eventLoop: any EventLoop) {
        self.idleTimeout = idleTimeout
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The timer keeps this handler until handlerRemoved stops it.
        idleTimer = CoalescingTimer(loop: context.eventLoop) { _ in
            self.perform(self.lifecycle.idleExpired(), context: context)
        }
        perform(lifecycle.initialAction, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        idleTimer?.stop()
        idleTimer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Connection-level frames (SETTINGS, PING, GOAWAY, WINDOW_UPDATE) were handled by
        // NIOHTTP2Handler; nothing is left to do with them.
    }

    /// NIO's inline multiplexer reports a stream's error here too, unwrapped, so it cannot be told
    /// from a connection error: the connection closes either way (the agent's own, fail closed).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, let context = self.context {
            for action in lifecycle.quiesce() { perform(action, context: context) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// NIO's multiplexer reports streams to a delegate, not down the pipeline.
    var streamDelegate: StreamDelegate { StreamDelegate(handler: NIOLoopBound(self, eventLoop: eventLoop)) }

    struct StreamDelegate: NIOHTTP2StreamDelegate {
        let handler: NIOLoopBound<AgentHTTP2ConnectionHandler>

        // Both run on the connection's loop: the multiplexer calls them from its channel handler.
        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
            let handler = handler.value
            guard let context = handler.context else { return }
            handler.perform(handler.lifecycle.streamOpened(id), context: context)
        }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
            let handler = handler.value
            guard let context = handler.context else { return }
            handler.perform(handler.lifecycle.streamClosed(id), context: context)
        }
    }

    private func perform(_ action: HTTP2ConnectionLifecycle.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .armIdle:
            idleTimer?.arm((), in: idleTimeout)
        case .disarmIdle:
            idleTimer?.disarm()
        case .sendGoAway(let lastStreamID):
            context.writeAndFlush(wrapOutboundOut(Self.goAway(lastStreamID)), promise: nil)
        case .goAwayAndClose(let lastStreamID):
            // Writes leave in order: once this one is out, so is the last stream's end. An agent
            // that reads nothing never lets it out: the close comes after a grace period anyway.
            let grace = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { context.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(Self.goAway(lastStreamID))).assumeIsolated().whenComplete { _ in
                grace.cancel()
                context.close(promise: nil)
            }
        }
    }

    private static func goAway(_ lastStreamID: HTTP2StreamID) -> HTTP2Frame {
        HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
    }
}

@available(*, unavailable)
extension AgentHTTP2ConnectionHandler: Sendable {}
