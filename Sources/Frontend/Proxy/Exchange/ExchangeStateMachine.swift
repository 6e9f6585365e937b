import EgressRoutes
import NIOCore
import NIOHTTP1

/// The requests of one agent connection, served one at a time and in order, each from the admission
/// of its head to the last byte of its response: events in, actions out, no sockets, no clocks
/// (docs/ARCHITECTURE.md, "The exchange state machine"). ``ProxyRequestHandler`` feeds it what the
/// agent, the upstream, the scanners and the timers report, and only performs the actions it returns.
///
/// `Connection` is the upstream connection the handler acquires; the machine holds it exactly while
/// an exchange relays through it, so every connection is released once, reusable only when both
/// messages ended cleanly. Every request leaves the machine settled exactly once (one `.settle`).
struct ExchangeStateMachine<Connection> {
    /// Which exchange an asynchronous result (an upstream, a scan, an operator decision, a timer)
    /// belongs to: results for an exchange that has already ended are ignored.
    struct ExchangeID: Hashable, Sendable, CustomStringConvertible {
        let value: Int
        var description: String { "#\(value)" }
    }

    struct Configuration {
        var timeouts: ConnectionTimeouts
        /// Whether this connection serves the decrypted requests of a tunnel (events name its host).
        var tunnelTarget: UpstreamTarget?
        /// A tunnel whose TLS handshake is still to come (not an HTTP/2 stream, which starts after it).
        var awaitsClientHello: Bool
        /// `--max-scan-bytes`: the most a held body may grow to.
        var maxScanBytes: Int
        /// `--max-held-bytes`: every held body and copy is taken from it first.
        var heldBytes: HeldBytesBudget
    }

    enum Event {
        // From the agent.
        /// A request head, with the admission decision taken on it (a pure function of the head),
        /// and whether the log level in force (it can change on reload) records bodies.
        case requestHead(HTTPRequestHead, RequestAdmission, capturesBodies: Bool)
        case requestBody(ByteBuffer)
        /// Trailer fields, delivered just before the request's end.
        case requestTrailers(HTTPHeaders)
        case requestEnd
        /// The agent's bytes could not be parsed as HTTP.
        case malformedRequest
        case agentReadComplete
        case agentWritabilityChanged(isWritable: Bool)
        case agentClosed
        /// Raw bytes arrived (before TLS and HTTP decoding): deadlines move on.
        case bytesReceived
        case tlsHandshakeCompleted
        case deadlineExpired(ConnectionDeadlines.Deadline)
        // From the proxy's own work.
        case certificateIssued(success: Bool)
        case upstreamAcquired(ExchangeID, Acquisition)
        /// The verdict on a held request: from its scan, then possibly from the operator.
        case outboundDecided(ExchangeID, OutboundVerdict)
        /// The verdict on a response held whole for inbound `block`.
        case responseScanned(ExchangeID, InboundVerdict)
        /// A copy of an event stream's events has been scanned (its warning, if any, is logged).
        case eventCopyScanned(ExchangeID)
        case responseTimedOut(ExchangeID)
        // From the upstream connection the current exchange holds.
        case responseHead(HTTPResponseHead)
        case responseBody(ByteBuffer, agentWritable: Bool)
        /// Trailer fields (gRPC's status), delivered just before the response's end.
        case responseTrailers(HTTPHeaders)
        case responseEnd
        case upstreamClosed(cleanly: Bool)
    }

    enum Acquisition {
        case acquired(AcquiredUpstream)
        case failed(Refusal)
    }

    struct AcquiredUpstream {
        var connection: Connection
        /// It came from the idle pool: the server may have closed it meanwhile.
        var wasReused: Bool
    }

    enum OutboundVerdict: Equatable {
        /// Send it: clean, warned, redacted (the head and body replace the held ones) or approved.
        case forward(HTTPRequestHead, body: ByteBuffer)
        /// The request waits in the supervision queue under this id.
        case awaitOperator(supervisionID: String)
        /// Refuse it; `eventContext` is the exchange's context with any secret in the path redacted.
        case refuse(Refusal, eventContext: RequestContext?)
    }

    enum InboundVerdict: Equatable {
        case deliver
        case refuse(Refusal)
    }

    enum Action {
        case deadline(ConnectionDeadlines.Action)
        case pauseReads
        case resumeReads
        // To the agent.
        case writeContinue(HTTPVersion)
        case writeResponseHead(HTTPResponseHead)
        case writeResponseBody(ByteBuffer)
        /// Released events of a stream, written and flushed at once (a verdict arrives on its own, not
        /// within an upstream read); `releasingHeld` bytes go back to the budget once they are written.
        case writeEvents(ByteBuffer, releasingHeld: Int)
        /// The end of a forwarded response, with its trailers; `releasingHeld` bytes go back to the
        /// budget once it is written.
        case writeResponseEnd(releasingHeld: Int, trailers: HTTPHeaders? = nil)
        case writeRefusal(RefusalResponse)
        /// Close once everything written so far has been written.
        case closeAfterWrites
        /// Close at once: a response is broken off, or nothing is left to write.
        case closeNow
        case issueCertificate(host: String)
        /// Answer the CONNECT with 200 and swap this connection's handlers for TLS and a tunnel.
        case establishTunnel(UpstreamTarget, HTTPVersion)
        /// The upstream accepted a WebSocket handshake: answer the agent with `101` and hand both
        /// connections to a WebSocket relay (the machine is done with both).
        case upgradeToWebSocket(Connection, WebSocketUpgrade)
        // To the upstream.
        /// `fresh`: never an idle connection or a shared HTTP/2 session; `http1Only`: a WebSocket
        /// handshake, which an HTTP/2 connection would not carry.
        case acquireUpstream(ExchangeID, UpstreamTarget, fresh: Bool, http1Only: Bool)
        case releaseUpstream(Connection, reusable: Bool)
        case writeUpstreamHead(Connection, HTTPRequestHead)
        case writeUpstreamBody(Connection, ByteBuffer)
        /// Writes the end (with the request's trailers) and flushes.
        case writeUpstreamEnd(Connection, trailers: HTTPHeaders? = nil)
        case flushUpstream(Connection)
        /// After the flush of what an acquired connection was given: read the agent again if it can take more.
        case resumeReadsIfWritable(Connection)
        case setUpstreamAutoRead(Connection, Bool)
        case armResponseTimer(ExchangeID)
        case cancelResponseTimer
        // DLP and supervision.
        case scanRequest(ExchangeID, RequestScan)
        case scanResponse(ExchangeID, ResponseScan)
        /// Inbound `warn`: scan the copy of a response already delivered; report, never block.
        case scanResponseCopy(ResponseScan)
        /// Inbound `warn` on an event stream: scan a copy of its events, then report
        /// `eventCopyScanned` (whatever the result) so the next scan of the stream may start.
        case scanEventCopy(ExchangeID, ResponseScan)
        case abandonSupervision(String)
        // Accounting.
        /// Count the request in `egress_requests_total` (`forwarded`, `blocked`, `failed`).
        case settle(String)
        case releaseHeld(Int)
        case emit(EgressEvent, minimum: LogLevel)
    }

    /// A refusal the proxy writes itself, always as the JSON body of ``BlockResponse``.
    struct RefusalResponse: Equatable {
        var refusal: Refusal
        var version: HTTPVersion
        /// Logged at level ≥ 1 when present.
        var event: EgressEvent?
        /// The response says `Connection: close`.
        var closeConnection: Bool
        /// Written below `HTTPServerPipelineHandler`: no request head was delivered to answer.
        var withoutRequest = false
    }

    /// What a WebSocket relay starts from.
    struct WebSocketUpgrade: Equatable {
        /// The `101` for the agent.
        var agentHead: HTTPResponseHead
        var context: RequestContext
        var dlp: ExchangeDLP
        /// Level 2 is on: messages are logged.
        var capturesMessages: Bool
    }

    struct RequestScan: Equatable {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var dlp: ExchangeDLP
        var context: RequestContext
    }

    struct ResponseScan: Equatable {
        var head: HTTPResponseHead
        var body: ByteBuffer
        var dlp: ExchangeDLP
        var context: RequestContext
        /// Scanned with the body: they reach the agent too.
        var trailers: HTTPHeaders? = nil
        /// The events of a stream this scan covers (numbered from 1), for inbound `warn` to report.
        var events: ClosedRange<Int>? = nil
    }

    enum State {
        case idle
        case exchanging(Exchange)
        /// A response was sent before the request ended: the rest of the request is read and dropped,
        /// then the connection takes the next request, or closes with `closeAfter`.
        case discarding(closeAfter: Bool)
        case openingTunnel(TunnelSetup)
        case closed
        /// Only while a payload is being changed in place (so held buffers grow without copies).
        case modifying
    }

    struct TunnelSetup: Equatable {
        var target: UpstreamTarget
        var version: HTTPVersion
        var requestEnded = false
        var certificateReady = false
    }

    /// One request and its response.
    struct Exchange {
        let id: ExchangeID
        let context: RequestContext
        let target: UpstreamTarget
        let method: HTTPMethod
        let clientVersion: HTTPVersion
        let dlp: ExchangeDLP
        /// The agent asked to upgrade to WebSocket: the upstream connection is a fresh one, and
        /// never pooled again.
        let webSocket: WebSocketHandshake?
        /// The head sent upstream; replaced when outbound DLP redacts it.
        var upstreamHead: HTTPRequestHead {
            didSet { framing = RequestBodyFraming(upstreamHead) ?? .noBody }
        }
        /// How `upstreamHead` frames the body, read once per head rather than per body part.
        private(set) var framing: RequestBodyFraming
        var phase: Phase
        /// The agent has sent the request's end.
        var requestEnded = false
        var closeClientAfter: Bool
        var upstreamReusable = true
        /// What to send again when a reused upstream connection closes before any response byte:
        /// the parts of a request without a body, or with a body held whole for DLP. `nil` once
        /// streaming made the request impossible to replay, or after the one retry.
        var replay: [HTTPServerRequestPart]?
        /// Trailer fields, cleared of those that must not be trailers (``TrailerFields``).
        var requestTrailers: HTTPHeaders?
        var responseTrailers: HTTPHeaders?
        /// This exchange's bytes taken from `--max-held-bytes`.
        var heldBytes = 0
        var requestLog: LoggedBody?
        var responseLog: LoggedBody?

        init(id: ExchangeID, plan: RequestAdmission.ForwardPlan, clientHead: HTTPRequestHead, phase: Phase) {
            self.id = id
            self.context = plan.context
            self.target = plan.target
            self.method = clientHead.method
            self.clientVersion = clientHead.version
            self.dlp = plan.dlp
            self.webSocket = plan.webSocket
            self.upstreamHead = plan.upstreamHead
            self.framing = RequestBodyFraming(plan.upstreamHead) ?? .noBody
            self.phase = phase
            self.closeClientAfter = clientHead.closesConnectionAfter
        }
    }

    /// Where an exchange is. The request runs ahead of the response: its body is held (outbound DLP),
    /// then judged, then sent; or streamed from the start. The response is awaited, then streamed
    /// or held whole (inbound `block`).
    enum Phase {
        /// Outbound DLP: the whole body is read before anything goes upstream.
        case receivingBodyForScan(ByteBuffer)
        case scanningRequest
        case awaitingOperator(supervisionID: String)
        /// The upstream connection is being acquired; parts read meanwhile wait here (reads are paused).
        case connecting(pending: [HTTPServerRequestPart])
        /// The connection is in hand: request parts go straight up, response parts come back.
        case relaying(Connection, wasReused: Bool, ResponsePhase)
        /// Inbound `block`: the response was read whole and is being scanned; the connection is released.
        case scanningResponse(HTTPResponseHead, ByteBuffer)
        /// Inbound `block` on an event stream the upstream has finished: its connection is released
        /// (a server that closes after its last event must not cut the stream), and the events still
        /// waiting are scanned and released in order.
        case releasingEvents(HTTPResponseHead, EventRelay)
    }

    enum ResponsePhase {
        case awaitingHead
        /// Inbound `block`: nothing reaches the agent before the scan has passed.
        case holding(HTTPResponseHead, ByteBuffer)
        /// The head went to the agent; body parts follow as they come.
        case streaming(HTTPResponseHead, InboundCopy)
        /// The upstream accepted the WebSocket handshake (this is the agent's `101`); the upgrade
        /// happens at the response's end, when NIO's decoder has stopped reading HTTP.
        case switching(HTTPResponseHead)
        /// Inbound `block` on a stream of events (``EventStreamSplitter``): the head went to the
        /// agent, and each event follows once its scan has passed.
        case streamingEvents(HTTPResponseHead, EventRelay)
    }

    /// The copy of a streamed response kept for inbound `warn`.
    enum InboundCopy {
        case none
        case keeping(ByteBuffer)
        /// Inbound `warn` on an event stream: each read's complete events are scanned as they pass.
        case events(EventCopy)
        /// Dropped: it outgrew `--max-scan-bytes` or the held-bytes budget; the reason is reported.
        case dropped(reason: String)
    }

    // Set only by this type's own extensions (one file per concern).
    var state = State.idle
    let configuration: Configuration
    var deadlines: ConnectionDeadlines
    private var nextID = 0

    init(configuration: Configuration) {
        self.configuration = configuration
        deadlines = ConnectionDeadlines(tunnel: configuration.awaitsClientHello, timeouts: configuration.timeouts)
    }

    /// The deadline the connection starts under.
    var initialActions: [Action] { [.deadline(deadlines.initialAction)] }

    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .requestHead(let head, let admission, let capturesBodies):
            requestHead(head, admission, capturesBodies: capturesBodies)
        case .requestBody(let buffer): requestBody(buffer)
        case .requestTrailers(let trailers): requestTrailers(trailers)
        case .requestEnd: requestEnd()
        case .malformedRequest: malformedRequest()
        case .agentReadComplete: agentReadComplete()
        case .agentWritabilityChanged(let isWritable): agentWritabilityChanged(isWritable)
        case .agentClosed: agentClosed()
        case .bytesReceived: [.deadline(deadlines.bytesReceived())]
        case .tlsHandshakeCompleted: [.deadline(deadlines.handshakeCompleted())]
        case .deadlineExpired(let deadline): deadlineExpired(deadline)
        case .certificateIssued(let success): certificateIssued(success)
        case .upstreamAcquired(let id, let result): upstreamAcquired(id, result)
        case .outboundDecided(let id, let verdict): outboundDecided(id, verdict)
        case .responseScanned(let id, let verdict): responseScanned(id, verdict)
        case .responseTimedOut(let id): responseTimedOut(id)
        case .responseHead(let head): responseHead(head)
        case .responseBody(let buffer, let agentWritable): responseBody(buffer, agentWritable: agentWritable)
        case .responseTrailers(let trailers): responseTrailers(trailers)
        case .eventCopyScanned(let id): eventCopyScanned(id)
        case .responseEnd: responseEnd()
        case .upstreamClosed(let cleanly): upstreamClosed(cleanly: cleanly)
        }
    }

    // MARK: Shared steps

    mutating func makeID() -> ExchangeID {
        nextID += 1
        return ExchangeID(value: nextID)
    }

    /// Takes `count` bytes from the budget for `exchange`; `false` when that would go over it.
    func reserve(_ count: Int, for exchange: inout Exchange) -> Bool {
        guard count > 0 else { return true }
        guard configuration.heldBytes.reserve(count) else { return false }
        exchange.heldBytes += count
        return true
    }

    /// A part that no state can take: nothing was judged for it, so the connection closes.
    mutating func protocolViolation() -> [Action] {
        var actions: [Action] = []
        if case .exchanging(let exchange) = state {
            actions += abandon(exchange, outcome: "failed")
        }
        state = .closed
        return actions + [.closeNow]
    }

    /// What an exchange leaves behind when it ends without a response: counted once, its bytes
    /// back, its timer off, its connection closed, its operator request withdrawn.
    func abandon(_ exchange: Exchange, outcome: String) -> [Action] {
        var actions: [Action] = [.cancelResponseTimer, .settle(outcome)]
        if exchange.heldBytes > 0 { actions.append(.releaseHeld(exchange.heldBytes)) }
        switch exchange.phase {
        case .relaying(let connection, _, _):
            actions.append(.releaseUpstream(connection, reusable: false))
        case .awaitingOperator(let id):
            actions.append(.abandonSupervision(id))
        case .receivingBodyForScan, .scanningRequest, .connecting, .scanningResponse, .releasingEvents:
            break
        }
        return actions
    }

    /// Events name the tunnel's host, or nothing on the plain listener.
    var tunnelHost: String { configuration.tunnelTarget?.description ?? "" }
}

extension ExchangeStateMachine.Action: Equatable where Connection: Equatable {}
