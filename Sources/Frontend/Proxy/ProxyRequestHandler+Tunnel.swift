import NIOCore
import NIOHTTP1
import NIOSSL

/// CONNECT: the host's certificate, the 200, and the swap to TLS plus a fresh HTTP stack (HTTP/1.1,
/// replaced by HTTP/2 when the agent chooses it by ALPN).
extension ProxyRequestHandler {
    /// Mints (off the event loop) or reuses the host's certificate.
    func issueCertificate(for host: String, context: ChannelHandlerContext) {
        services.interception.context(for: host, on: context.eventLoop).assumeIsolated().whenComplete { result in
            if case .success(let tlsContext) = result { self.tunnelContext = tlsContext }
            self.handle(.certificateIssued(success: self.tunnelContext != nil))
        }
    }

    /// Answers 200 and swaps this connection's HTTP handlers for TLS termination plus a fresh HTTP
    /// stack in tunnel mode.
    func establishTunnel(to target: UpstreamTarget, version: HTTPVersion, context: ChannelHandlerContext) {
        guard let tlsContext = tunnelContext else {
            context.close(promise: nil)
            return
        }
        let established = HTTPResponseHead(version: version, status: .custom(code: 200, reasonPhrase: "Connection established"))
        context.write(wrapOutboundOut(.head(established)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)

        let channel = context.channel
        let sync = context.pipeline.syncOperations
        do {
            try sync.addHandler(NIOSSLServerHandler(context: tlsContext))
            let protocolSwitch = TunnelProtocolSwitch(target: target, services: services)
            try sync.addHandler(protocolSwitch)
            protocolSwitch.http1Handlers = try ClientPipeline.addHTTPHandlers(to: sync, mode: .tunnel(target), services: services)
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
