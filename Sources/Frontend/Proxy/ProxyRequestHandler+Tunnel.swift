import NIOCore
import NIOHTTP1
import NIOSSL

/// CONNECT: the host's certificate, the 200, and the swap to TLS plus a fresh HTTP stack.
extension ProxyRequestHandler {
    /// An admitted CONNECT: mint (or reuse) the host's certificate, then answer 200.
    func openTunnel(to target: UpstreamTarget, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let host = target.host
        state = .openingTunnel(TunnelSetup(target: target, version: head.version))
        pauseReads()
        services.interception.context(for: host, on: context.eventLoop).assumeIsolated().whenComplete { result in
            guard case .openingTunnel(var setup) = self.state, let context = self.context else { return }
            switch result {
            case .success(let tlsContext):
                setup.tlsContext = tlsContext
                self.state = .openingTunnel(setup)
                self.completeTunnelIfReady(context: context)
            case .failure:
                self.state = .closed
                self.respond(
                    status: .internalServerError,
                    reason: "egress: cannot issue a certificate for \(host)",
                    version: head.version,
                    event: nil,
                    closeAfter: true,
                    context: context
                )
            }
        }
    }

    /// Answers 200 and swaps this connection's HTTP handlers for TLS termination plus a fresh HTTP
    /// stack, once the CONNECT request has ended and the host's certificate is ready.
    func completeTunnelIfReady(context: ChannelHandlerContext) {
        guard case .openingTunnel(let setup) = state, setup.requestEnded, let tlsContext = setup.tlsContext else {
            return
        }
        state = .closed
        let established = HTTPResponseHead(
            version: setup.version,
            status: .custom(code: 200, reasonPhrase: "Connection established")
        )
        context.write(wrapOutboundOut(.head(established)), promise: nil)
        writeResponseEnd(context, promise: nil)

        let channel = context.channel
        let sync = context.pipeline.syncOperations
        do {
            try sync.addHandler(NIOSSLServerHandler(context: tlsContext))
            try ClientPipeline.addHTTPHandlers(to: sync, mode: .tunnel(setup.target), services: services)
            // The request decoder goes last: on removal it hands bytes the agent already sent
            // (its TLS ClientHello) to the next handler, which by then is the TLS handler.
            let decoder = siblings.first { $0 is ByteToMessageHandler<HTTPRequestDecoder> }
            for sibling in siblings where !(sibling is ByteToMessageHandler<HTTPRequestDecoder>) {
                sync.removeHandler(sibling, promise: nil)
            }
            sync.removeHandler(context: context, promise: nil)
            if let decoder { sync.removeHandler(decoder, promise: nil) }
            channel.read()
        } catch {
            channel.close(promise: nil)
        }
    }
}
