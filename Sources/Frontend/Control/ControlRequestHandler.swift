import NIOCore
import NIOHTTP1

/// Thin glue between NIOHTTP1 and `ControlRouter`: collects a request's head, discards its body
/// (the API takes none), and writes the router's answer.
final class ControlRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The API has no request bodies; anything larger than this is refused and the connection closed.
    static let maximumBodyBytes = 16 << 10

    private let router: ControlRouter
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(router: ControlRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
        case .end:
            guard let head else {
                // NIO's decoder never ends a request it did not start; should one arrive, nothing
                // was asked: close rather than answer a guess.
                context.close(promise: nil)
                return
            }
            self.head = nil
            let response: ControlResponse
            if bodyBytes > Self.maximumBodyBytes {
                response = .error(413, "request body too large")
            } else {
                response = router.respond(
                    to: ControlRouter.Request(
                        method: head.method.rawValue,
                        uri: head.uri,
                        authorization: head.headers.first(name: "authorization"),
                        origin: head.headers.first(name: "origin"),
                        host: head.headers.first(name: "host")
                    )
                )
            }
            write(
                response,
                keepAlive: head.isKeepAlive && bodyBytes <= Self.maximumBodyBytes,
                for: head,
                context: context
            )
        }
    }

    private func write(
        _ response: ControlResponse,
        keepAlive: Bool,
        for request: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        let body = context.channel.allocator.buffer(string: response.body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "cache-control", value: "no-store")
        headers.add(name: "x-content-type-options", value: "nosniff")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        var head = HTTPResponseHead(
            version: request.version,
            status: HTTPResponseStatus(statusCode: response.status),
            headers: headers
        )
        head.headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension ControlRequestHandler: Sendable {}
