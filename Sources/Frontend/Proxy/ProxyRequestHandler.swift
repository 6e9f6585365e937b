import EgressRoutes
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// The agent-facing end of the proxy: decides each request against the routes, injects
/// credentials, and relays it to an upstream connection with backpressure both ways.
///
/// One instance serves the plain listener connection (absolute-form requests and `CONNECT`);
/// after an allowed `CONNECT` a fresh instance in tunnel mode serves the decrypted requests.
final class ProxyRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Mode {
        case forwardProxy
        case tunnel(UpstreamTarget)
    }

    enum State {
        case idle
        /// A response was sent before the request ended; the rest of the request is dropped. With
        /// `closeAfter` the connection closes at the request's end, once the response is written.
        case discarding(closeAfter: EventLoopFuture<Void>?)
        case exchanging(Exchange)
        case openingTunnel(TunnelSetup)
        case closed
    }

    struct TunnelSetup {
        var target: UpstreamTarget
        var version: HTTPVersion
        var requestEnded = false
        var tlsContext: NIOSSLContext?
    }

    let mode: Mode
    let services: ProxyServices
    /// The HTTP handlers installed beside this one, removed when a tunnel replaces them.
    let siblings: [any RemovableChannelHandler]
    var state = State.idle
    private(set) var context: ChannelHandlerContext?
    var readsPaused = false
    var readPending = false
    /// The connection's own deadlines (idle, request head, TLS handshake) and the one timer armed.
    var deadlines: ConnectionDeadlines
    var deadlineTimer: Scheduled<Void>?
    /// How many writes of a response's end are under way (a nested refusal can write inside one).
    var writingResponseEnd = 0
    var deferredParts = CircularBuffer<HTTPServerRequestPart>()
    var drainScheduled = false

    init(mode: Mode, services: ProxyServices, siblings: [any RemovableChannelHandler]) {
        self.mode = mode
        self.services = services
        self.siblings = siblings
        var isTunnel = false
        if case .tunnel = mode { isTunnel = true }
        deadlines = ConnectionDeadlines(tunnel: isTunnel, timeouts: services.connectionTimeouts)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        perform(deadlines.initialAction, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineTimer?.cancel()
        deadlineTimer = nil
        self.context = nil
    }

    // MARK: Agent → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        // A part delivered from inside our own write of a response's end (the next pipelined
        // request) waits for the next tick: a pipeline of refusals is then served one after the
        // other, never by recursion as deep as the pipeline is long.
        if writingResponseEnd > 0 || !deferredParts.isEmpty {
            deferredParts.append(part)
            if !drainScheduled {
                drainScheduled = true
                context.eventLoop.assumeIsolated().execute { self.drainDeferredParts() }
            }
            return
        }
        handle(part, context: context)
    }

    func drainDeferredParts() {
        drainScheduled = false
        guard let context else { return }
        while writingResponseEnd == 0, let part = deferredParts.popFirst() {
            handle(part, context: context)
        }
    }

    /// Writes a response's end; see ``channelRead(context:data:)`` for why this is tracked.
    func writeResponseEnd(_ writer: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writingResponseEnd += 1
        writer.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        writingResponseEnd -= 1
    }

    func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if case .end = part { deadlines.requestEnded() }
        switch (state, part) {
        case (.idle, .head(let head)):
            handleHead(head, context: context)
        case (.discarding, .body):
            break
        case (.discarding(let closeAfter), .end):
            if let closeAfter {
                state = .closed
                close(context: context, after: closeAfter)
            } else {
                state = .idle
                awaitNextRequest(context: context)
            }
        case (.exchanging(let exchange), .body(let buffer)):
            if exchange.heldRequestBody != nil {
                holdRequestBody(buffer, exchange: exchange, context: context)
            } else if let connection = exchange.connection {
                sendUpstream(body: buffer, exchange: exchange, connection: connection)
                if !connection.channel.isWritable { pauseReads() }
            } else if exchange.upstreamResponseHead != nil {
                // The upstream already answered and its connection is gone: the rest goes nowhere.
            } else {
                exchange.buffered.append(part)
            }
        case (.exchanging(let exchange), .end):
            exchange.requestEnded = true
            if exchange.heldRequestBody != nil {
                scanRequest(exchange, context: context)
            } else if let connection = exchange.connection {
                finishUpstreamRequest(exchange, connection: connection)
            } else {
                exchange.buffered.append(part)
            }
        case (.openingTunnel(var setup), .end):
            setup.requestEnded = true
            state = .openingTunnel(setup)
            completeTunnelIfReady(context: context)
        case (.openingTunnel, .body), (.closed, _):
            break
        case (.idle, .body), (.idle, .end), (.discarding, .head), (.exchanging, .head), (.openingTunnel, .head):
            // HTTPServerPipelineHandler delivers one request at a time, and every exchange leaves its
            // state before the write that ends its response (which may deliver the next pipelined
            // request at once). Should a part still arrive out of order, nothing was judged for it:
            // close the connection rather than guess.
            state = .closed
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state, let connection = exchange.connection {
            connection.channel.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state, let connection = exchange.connection {
            // A slow agent stops the upstream from being read, so the proxy never buffers without bound.
            connection.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
                .whenFailure { _ in }
        }
        readIfPending()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(deadlines.connectionClosed(), context: context)
        if case .exchanging(let exchange) = state {
            settle(exchange, "failed")
            // Scans and connects still under way may keep the exchange alive: its bytes go back now.
            exchange.held.release()
            exchange.responseTimer?.cancel()
            // An agent that gave up no longer waits for the operator.
            if let id = exchange.supervisionID { services.supervision.abandon(id) }
        }
        if case .exchanging(let exchange) = state, let connection = exchange.connection {
            // The agent went away mid-exchange: the upstream connection is in an unknown state.
            services.pool(on: context.eventLoop).release(connection, reusable: false)
        }
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, case .idle = state {
            state = .closed
            respond(
                status: .badRequest,
                reason: "egress: malformed HTTP request",
                version: .http1_1,
                event: nil,
                closeAfter: true,
                context: context
            )
            return
        }
        context.close(promise: nil)
    }

    // MARK: Backpressure

    /// Reads from the agent wait while an upstream is not ready for more, and while the agent does
    /// not read what it is sent: an agent that pipelines requests and never reads its responses
    /// would otherwise make the proxy queue responses without bound.
    func read(context: ChannelHandlerContext) {
        if readsPaused || !context.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        readIfPending()
    }

    private func readIfPending() {
        guard readPending, !readsPaused, let context, context.channel.isWritable else { return }
        readPending = false
        context.read()
    }

    // MARK: Deciding

    func handleHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        perform(deadlines.requestHeadReceived(), context: context)
        let environment = RequestAdmission.Environment(
            isOwnAddress: { [ownListeners = services.ownListeners] host, port in
                ownListeners.contains(numericHost: host, port: port)
            },
            scannerAvailable: services.scanner != nil,
            maxScanBytes: services.maxScanBytes
        )
        let plan: RequestAdmission.ForwardPlan
        switch RequestAdmission.decide(head, mode: mode, policy: services.policy, environment: environment) {
        case .refuse(let refusal, let requestContext, let closeConnection):
            refuse(head, refusal, requestContext, closeAfter: closeConnection, context: context)
            return
        case .openTunnel(let target, _):
            openTunnel(to: target, head: head, context: context)
            return
        case .forward(let forward):
            plan = forward
        }
        let exchange = Exchange(
            context: plan.context,
            target: plan.target,
            clientHead: head,
            upstreamHead: plan.upstreamHead,
            dlp: plan.dlp,
            capturesBodies: services.events.isEnabled(.full),
            heldBytes: services.heldBytes
        )
        state = .exchanging(exchange)
        if plan.expectsContinue {
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                promise: nil
            )
        }
        if exchange.holdsRequest {
            // Outbound DLP decides on the whole request before anything goes upstream.
            exchange.heldRequestBody = context.channel.allocator.buffer(capacity: 0)
        } else {
            if UpstreamRequestBuilder.mayRetry(plan.upstreamHead),
                [.noBody, .contentLength(0)].contains(exchange.upstreamFraming)
            {
                exchange.replay = [.end(nil)]
            }
            connectUpstream(exchange, context: context)
        }
    }

}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
