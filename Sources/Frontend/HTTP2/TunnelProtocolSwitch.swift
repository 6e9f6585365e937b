import NIOCore
import NIOHTTP2

/// Sits right behind a tunnel's TLS handler until the handshake is done. An agent that chose `h2`
/// by ALPN gets the HTTP/2 stack in place of the HTTP/1.1 handlers the tunnel was opened with;
/// every stream then gets its own ``ProxyRequestHandler``, so each stream is one exchange under the
/// same machine, admission and DLP as an HTTP/1.1 request (docs/ARCHITECTURE.md, "HTTP/2").
///
/// The HTTP/1.1 handlers are installed first because they own the tunnel's ClientHello and
/// handshake deadlines; TLS delivers no application byte before the handshake completes, so they
/// have seen nothing when they are swapped out.
final class TunnelProtocolSwitch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let target: UpstreamTarget
    private let services: ProxyServices
    /// The tunnel's HTTP/1.1 handlers, installed after this one.
    var http1Handlers: [any RemovableChannelHandler] = []

    init(target: UpstreamTarget, services: ProxyServices) {
        self.target = target
        self.services = services
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        ALPNSwitch.handle(event, context: context) { sync in
            // In front of the HTTP/1.1 handlers: NIO removes a decoder only on the next tick,
            // and the bytes that follow the handshake in this read must not reach it.
            try Self.addHTTP2Handlers(to: sync, after: self, target: target, services: services)
            for handler in http1Handlers { sync.removeHandler(handler, promise: nil) }
        }
    }

    /// The agent-facing HTTP/2 stack. Its settings bound what one connection can make the proxy
    /// hold: 100 concurrent streams, each with NIO's 64 KiB flow-control window (a stream that is not
    /// read, because its upstream is slow or its body is being scanned, stops the agent at that
    /// window), and header blocks up to 64 KiB.
    private static func addHTTP2Handlers(
        to sync: ChannelPipeline.SynchronousOperations,
        after switchHandler: TunnelProtocolSwitch,
        target: UpstreamTarget,
        services: ProxyServices
    ) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 64 * 1024),
        ]
        let connectionHandler = AgentHTTP2ConnectionHandler(idleTimeout: services.connectionTimeouts.idle, eventLoop: sync.eventLoop)
        let http2 = NIOHTTP2Handler(
            mode: .server,
            eventLoop: sync.eventLoop,
            connectionConfiguration: connection,
            streamConfiguration: NIOHTTP2Handler.StreamConfiguration(),
            streamDelegate: connectionHandler.streamDelegate
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                let streamSync = stream.pipeline.syncOperations
                try streamSync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try streamSync.addHandler(
                    ProxyRequestHandler(mode: .tunnel(target), services: services, siblings: [], onHTTP2Stream: true)
                )
            }
        }
        try sync.addHandler(http2, position: .after(switchHandler))
        try sync.addHandler(connectionHandler, position: .after(http2))
    }
}

@available(*, unavailable)
extension TunnelProtocolSwitch: Sendable {}
