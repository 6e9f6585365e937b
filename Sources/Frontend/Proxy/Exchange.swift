import NIOCore
import NIOHTTP1

/// One agent request and its response, from the route decision to the last response byte.
final class Exchange {
    let context: RequestContext
    let target: UpstreamTarget
    let method: HTTPMethod
    let clientVersion: HTTPVersion
    /// The head sent upstream; replaced when outbound DLP redacts it.
    var upstreamHead: HTTPRequestHead {
        didSet { upstreamFraming = RequestBodyFraming(upstreamHead) ?? .noBody }
    }
    /// How `upstreamHead` frames the body, read once per head rather than per body part.
    private(set) var upstreamFraming: RequestBodyFraming
    let dlp: ExchangeDLP

    /// Parts read from the agent before the upstream connection was ready.
    var buffered: [HTTPServerRequestPart] = []
    /// The whole request body, held while outbound DLP decides.
    var heldRequestBody: ByteBuffer?
    var connection: UpstreamConnection?
    var requestEnded = false
    var responseHeadSent = false
    var responseEnded = false
    var upstreamReusable = true
    var closeClientAfter: Bool
    var upstreamResponseHead: HTTPResponseHead?
    /// The supervision id while the request waits for an operator.
    var supervisionID: String?
    /// Fires when the upstream has not started its response in time after the request was sent.
    var responseTimer: Scheduled<Void>?
    /// The response body, held whole while inbound `block` DLP decides.
    var heldResponseBody: ByteBuffer?
    /// A bounded copy of a streamed response for inbound `warn` DLP; `nil` once it outgrew the bound.
    var inboundCopy: ByteBuffer?
    var inboundCopyOverflowed = false
    /// The inbound copy was dropped because the global held-bytes budget was spent.
    var inboundCopyBusy = false
    /// This exchange's share of `--max-held-bytes`: held request and response bodies, inbound copies.
    let held: HeldBytesReservation
    /// What to send again when a reused upstream connection fails before any response byte: the
    /// parts of a request without a body, or with a body held whole for DLP. `nil` once streaming
    /// made the request impossible to replay, or after the one retry.
    var replay: [HTTPServerRequestPart]?
    /// Whether the request was counted in `egress_requests_total` (exactly once per request).
    var settled = false
    /// Present only at log level 2.
    var requestBody: LoggedBody?
    var responseBody: LoggedBody?

    init(
        context: RequestContext,
        target: UpstreamTarget,
        clientHead: HTTPRequestHead,
        upstreamHead: HTTPRequestHead,
        dlp: ExchangeDLP,
        capturesBodies: Bool,
        heldBytes: HeldBytesBudget
    ) {
        self.held = HeldBytesReservation(budget: heldBytes)
        self.context = context
        self.target = target
        self.method = clientHead.method
        self.clientVersion = clientHead.version
        self.upstreamHead = upstreamHead
        self.upstreamFraming = RequestBodyFraming(upstreamHead) ?? .noBody
        self.dlp = dlp
        self.closeClientAfter = !clientHead.isKeepAlive
        if capturesBodies {
            requestBody = LoggedBody()
            responseBody = LoggedBody()
        }
    }

    /// Whether the request body is held for an outbound scan instead of streamed.
    var holdsRequest: Bool { !dlp.outboundDetectors.isEmpty }
}

@available(*, unavailable)
extension Exchange: Sendable {}
