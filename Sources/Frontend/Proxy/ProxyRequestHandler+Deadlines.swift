import NIOCore
import NIOTLS

/// The connection's own deadlines (docs/ARCHITECTURE.md, "Deadlines"): the pure
/// ``ConnectionDeadlines`` inside the machine decides, this arms the one timer and reports it firing.
extension ProxyRequestHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ClientBytesArrived {
            handle(.bytesReceived)
            return
        }
        if case TLSUserEvent.handshakeCompleted = event {
            handle(.tlsHandshakeCompleted)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func perform(_ action: ConnectionDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .disarm:
            deadlineTimer?.disarm()
        case .arm(let deadline, let timeout):
            deadlineTimer?.arm(deadline, in: timeout)
        }
    }
}
