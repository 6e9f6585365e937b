import NIOCore
import NIOHTTP1

/// WebSocket: after the upstream accepted the handshake, the `101` to the agent and the swap of
/// both connections' HTTP handlers for NIO's frame codec and a ``WebSocketRelay``
/// (docs/ARCHITECTURE.md, "WebSocket relay").
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
        let loop = context.eventLoop
        let services = self.services
        let upstreamBuffer = UpgradeBuffer()
        let agentBuffer = UpgradeBuffer()
        let decodersGone: [EventLoopFuture<Void>]
        do {
            // First every HTTP handler but the decoders goes, and a buffer takes their place at the
            // end of each pipeline: the bytes each decoder held back reach it on the decoder's removal.
            let upstreamSync = upstream.pipeline.syncOperations
            upstreamSync.removeHandler(connection.handler, promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: HTTPRequestEncoder.self), promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: NIOHTTPRequestHeadersValidator.self), promise: nil)
            try upstreamSync.addHandler(upstreamBuffer)
            let upstreamDecoder = try upstreamSync.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self)

            let agentSync = context.pipeline.syncOperations
            let agentDecoder = siblings.first { $0 is ByteToMessageHandler<HTTPRequestDecoder> }
            for sibling in siblings where !(sibling is ByteToMessageHandler<HTTPRequestDecoder>) {
                agentSync.removeHandler(sibling, promise: nil)
            }
            try agentSync.addHandler(agentBuffer)
            agentSync.removeHandler(context: context, promise: nil)

            let upstreamRemoved = loop.makePromise(of: Void.self)
            upstreamSync.removeHandler(upstreamDecoder, promise: upstreamRemoved)
            let agentRemoved = loop.makePromise(of: Void.self)
            if let agentDecoder { agentSync.removeHandler(agentDecoder, promise: agentRemoved) } else { agentRemoved.succeed() }
            decodersGone = [upstreamRemoved.futureResult, agentRemoved.futureResult]
        } catch {
            // A pipeline that cannot be rebuilt carries nothing: both connections go.
            upstream.close(promise: nil)
            agent.close(promise: nil)
            return
        }
        EventLoopFuture.andAllSucceed(decodersGone, on: loop).assumeIsolated().whenComplete { result in
            guard case .success = result, agent.isActive, upstream.isActive else {
                upstream.close(promise: nil)
                agent.close(promise: nil)
                return
            }
            let relay = WebSocketRelay(agent: agent, upstream: upstream, upgrade: upgrade, services: services)
            let sides = [(agent, WebSocketRelay.Side.agent, agentBuffer), (upstream, .upstream, upstreamBuffer)]
            do {
                for (channel, side, _) in sides {
                    try channel.pipeline.syncOperations.addHandlers(relay.handlers(for: side))
                }
                // Reading resumes before the kept bytes go on, so that what they make the relay
                // decide about reading (pause a side under scan) is what stands.
                relay.start()
                for (channel, _, buffer) in sides {
                    buffer.release(context: try channel.pipeline.syncOperations.context(handler: buffer))
                }
            } catch {
                upstream.close(promise: nil)
                agent.close(promise: nil)
            }
        }
    }
}
