import NIOCore
import NIOHTTP1
import NIOHTTP2

/// Sits right behind an upstream connection's TLS handler until the handshake is done. When the
/// server chose `h2` by ALPN, the HTTP/1.1 codec the connection was opened with is swapped for
/// NIO's HTTP/2 handler; the pool then opens one stream per exchange on it (``UpstreamHTTP2Session``).
/// ``UpstreamHandler`` stays last either way: it reports readiness and the close.
final class UpstreamProtocolSwitch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Readiness (UpstreamHandler) is reported only after this, with the right stack in place.
        ALPNSwitch.handle(event, context: context) { sync in
            sync.removeHandler(try sync.handler(type: HTTPRequestEncoder.self), promise: nil)
            sync.removeHandler(try sync.handler(type: NIOHTTPRequestHeadersValidator.self), promise: nil)
            sync.removeHandler(try sync.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
            try Self.addHTTP2Handlers(to: sync, after: self)
        }
    }

    /// No push, header blocks up to 64 KiB, and a 1 MiB flow-control window per stream and 4 MiB
    /// per connection: a download over a long round trip is not held to 64 KiB per round trip,
    /// and a stream the proxy stops reading (its agent is slow) stops the server at its window.
    private static func addHTTP2Handlers(to sync: ChannelPipeline.SynchronousOperations, after handler: UpstreamProtocolSwitch) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 64 * 1024),
        ]
        connection.targetWindowSize = 4 << 20
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 1 << 20
        let http2 = NIOHTTP2Handler(
            mode: .client,
            eventLoop: sync.eventLoop,
            connectionConfiguration: connection,
            streamConfiguration: stream
        ) { stream in
            // The server may not open streams (push is off): one that does is refused.
            stream.close()
        }
        try sync.addHandler(http2, position: .after(handler))
        try sync.addHandler(UpstreamHTTP2ConnectionHandler(), position: .after(http2))
    }
}

/// Behind `NIOHTTP2Handler` on an upstream HTTP/2 connection: takes the connection-level frames
/// NIO has already acted on, so none reaches ``UpstreamHandler``, and notes a `GOAWAY`: the pool
/// opens no further stream on a connection the server is closing.
final class UpstreamHTTP2ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame

    private(set) var goAwayReceived = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload { goAwayReceived = true }
    }
}

@available(*, unavailable)
extension UpstreamProtocolSwitch: Sendable {}

@available(*, unavailable)
extension UpstreamHTTP2ConnectionHandler: Sendable {}
