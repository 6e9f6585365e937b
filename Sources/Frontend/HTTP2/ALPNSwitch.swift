import NIOCore
import NIOTLS

/// The common step of both legs' protocol switches (``TunnelProtocolSwitch``,
/// ``UpstreamProtocolSwitch``): each sits right behind a TLS handler and, once the handshake has
/// completed, installs HTTP/2 if `h2` was negotiated, passes the event on and leaves the pipeline.
enum ALPNSwitch {
    static func handle(
        _ event: Any,
        context: ChannelHandlerContext,
        installHTTP2: (ChannelPipeline.SynchronousOperations) throws -> Void
    ) {
        guard case TLSUserEvent.handshakeCompleted(let negotiated) = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let sync = context.pipeline.syncOperations
        if negotiated == "h2" {
            do {
                try installHTTP2(sync)
            } catch {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
        sync.removeHandler(context: context, promise: nil)
    }
}
