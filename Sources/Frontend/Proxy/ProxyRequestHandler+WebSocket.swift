import NIOCore
import NIOHTTP1

/// WebSocket: after the upstream accepted the handshake, the `101` to the agent and the swap of
/// both connections' HTTP handlers for NIO's frame codec and a ``WebSocketRelay``.
extension ProxyRequestHandler {
    func upgradeToWebSocket(
        _ connection: UpstreamConnection,
        _ upgrade: Machine.WebSocketUpgrade,
        context: ChannelHandlerContext
    ) {
        context.write(wrapOutboundOut(.head(upgrade.agentHead)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let agent = context.channel
        let upstream = connection.channel
        connection.handler.receiver = nil
        let relay = WebSocketRelay(agent: agent, upstream: upstream, upgrade: upgrade, services: services)
        do {
            // Each HTTP decoder goes last: on removal it hands the frames that followed the head in
            // the same read (NIO's decoders stop reading HTTP at an upgrade) to the frame decoder.
            let upstreamSync = upstream.pipeline.syncOperations
            try upstreamSync.addHandlers(relay.handlers(for: .upstream))
            upstreamSync.removeHandler(connection.handler, promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: HTTPRequestEncoder.self), promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: NIOHTTPRequestHeadersValidator.self), promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)

            let agentSync = context.pipeline.syncOperations
            try agentSync.addHandlers(relay.handlers(for: .agent))
            let decoder = siblings.first { $0 is ByteToMessageHandler<HTTPRequestDecoder> }
            for sibling in siblings where !(sibling is ByteToMessageHandler<HTTPRequestDecoder>) {
                agentSync.removeHandler(sibling, promise: nil)
            }
            agentSync.removeHandler(context: context, promise: nil)
            if let decoder { agentSync.removeHandler(decoder, promise: nil) }
        } catch {
            // A pipeline that cannot be rebuilt carries nothing: both connections go.
            upstream.close(promise: nil)
            agent.close(promise: nil)
            return
        }
        relay.start()
    }
}
