import NIOCore
import NIOHTTP1
import NIOTLS

/// The connection's own deadlines (docs/ARCHITECTURE.md, "Deadlines"): the pure
/// ``ConnectionDeadlines`` decides, this arms and fires the one timer.
extension ProxyRequestHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ClientBytesArrived {
            perform(deadlines.bytesReceived(), context: context)
            return
        }
        if case TLSUserEvent.handshakeCompleted = event {
            perform(deadlines.handshakeCompleted(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func perform(_ action: ConnectionDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .disarm:
            deadlineTimer?.cancel()
            deadlineTimer = nil
        case .arm(let deadline, let timeout):
            deadlineTimer?.cancel()
            deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.deadlineFired(deadline, after: timeout)
            }
        }
    }

    /// The response has ended and the connection stays open: it is idle until the next request.
    func awaitNextRequest(context: ChannelHandlerContext) {
        perform(deadlines.exchangeFinished(), context: context)
    }

    func deadlineFired(_ deadline: ConnectionDeadlines.Deadline, after timeout: TimeAmount) {
        guard let context, let expired = deadlines.expired(deadline) else { return }
        deadlineTimer = nil
        let seconds = Self.seconds(timeout)
        // Whatever expired, this connection takes no further request.
        state = .closed
        switch expired {
        case .idle, .discardedBody:
            // Nothing is left to answer: an idle keep-alive connection, or the rest of a request
            // whose refusal was written already.
            let reason =
                expired == .idle
                ? "egress: idle keep-alive connection closed after \(seconds)"
                : "egress: rest of a refused request not received within \(seconds)"
            services.events.emit(.connectionClosed(reason: reason), minimum: .full)
            context.close(promise: nil)
        case .requestHead:
            let reason = "egress: request head not received within \(seconds)"
            services.metrics.requestSettled(Refusal.Outcome.failed.rawValue)
            // No head was delivered, so HTTPServerPipelineHandler expects no response: write below it.
            let pipelining = siblings.first { $0 is HTTPServerPipelineHandler }.flatMap {
                try? context.pipeline.syncOperations.context(handler: $0)
            }
            respond(
                status: .requestTimeout,
                reason: reason,
                version: .http1_1,
                event: .block(reason: reason, context: RequestContext(host: tunnelHost, method: "", path: "")),
                closeAfter: true,
                context: context,
                writingThrough: pipelining
            )
        case .clientHello, .tlsHandshake:
            let reason =
                expired == .clientHello
                ? "egress: no TLS ClientHello within \(seconds) of CONNECT"
                : "egress: TLS handshake not completed within \(seconds)"
            services.events.emit(
                .block(reason: reason, context: RequestContext(host: tunnelHost, method: "CONNECT", path: tunnelHost)),
                minimum: .blocks
            )
            context.close(promise: nil)
        }
    }

    /// The tunnel's host for events, or "" on the plain listener.
    var tunnelHost: String {
        if case .tunnel(let target) = mode { return target.description }
        return ""
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1_000_000_000
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
