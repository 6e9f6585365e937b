import NIOCore
import NIOHTTP1

/// One agent request and its response, from the route decision to the last response byte.
final class Exchange {
    let context: RequestContext
    let target: UpstreamTarget
    let method: HTTPMethod
    let clientVersion: HTTPVersion
    let upstreamHead: HTTPRequestHead

    /// Parts read from the agent before the upstream connection was ready.
    var buffered: [HTTPServerRequestPart] = []
    var connection: UpstreamConnection?
    var requestEnded = false
    var responseHeadSent = false
    var responseEnded = false
    var upstreamReusable = true
    var closeClientAfter: Bool
    var upstreamResponseHead: HTTPResponseHead?
    /// Present only at log level 2.
    var requestBody: LoggedBody?
    var responseBody: LoggedBody?

    init(
        context: RequestContext,
        target: UpstreamTarget,
        clientHead: HTTPRequestHead,
        upstreamHead: HTTPRequestHead,
        capturesBodies: Bool
    ) {
        self.context = context
        self.target = target
        self.method = clientHead.method
        self.clientVersion = clientHead.version
        self.upstreamHead = upstreamHead
        self.closeClientAfter = !clientHead.isKeepAlive
        if capturesBodies {
            requestBody = LoggedBody()
            responseBody = LoggedBody()
        }
    }
}

@available(*, unavailable)
extension Exchange: Sendable {}
