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

    private let mode: Mode
    let services: ProxyServices
    /// The HTTP handlers installed beside this one, removed when a tunnel replaces them.
    private let siblings: [any RemovableChannelHandler]
    var state = State.idle
    private(set) var context: ChannelHandlerContext?
    private var readsPaused = false
    private var readPending = false
    /// The connection's own deadlines (idle, request head, TLS handshake) and the one timer armed.
    private var deadlines: ConnectionDeadlines
    private var deadlineTimer: Scheduled<Void>?
    private var writingResponseEnd = false
    private var deferredParts = CircularBuffer<HTTPServerRequestPart>()
    private var drainScheduled = false

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

    // MARK: Deadlines

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ClientBytesArrived {
            perform(deadlines.bytesReceived(), context: context)
            return
        }
        if case TLSUserEvent.handshakeCompleted = event {
            perform(deadlines.handshakeCompleted(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func perform(_ action: ConnectionDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .disarm:
            deadlineTimer?.cancel()
            deadlineTimer = nil
        case .arm(let deadline, let timeout):
            deadlineTimer?.cancel()
            deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.deadlineFired(deadline, after: timeout)
            }
        }
    }

    /// The response has ended and the connection stays open: it is idle until the next request.
    private func awaitNextRequest(context: ChannelHandlerContext) {
        perform(deadlines.exchangeFinished(), context: context)
    }

    private func deadlineFired(_ deadline: ConnectionDeadlines.Deadline, after timeout: TimeAmount) {
        guard let context, let expired = deadlines.expired(deadline) else { return }
        deadlineTimer = nil
        let seconds = Self.seconds(timeout)
        switch expired {
        case .idle:
            // An idle keep-alive connection is simply closed; there is no request to answer.
            state = .closed
            services.events.emit(.connectionClosed(reason: "egress: idle keep-alive connection closed after \(seconds)"), minimum: .full)
            context.close(promise: nil)
        case .requestHead:
            state = .closed
            let reason = "egress: request head not received within \(seconds)"
            services.metrics.requestSettled(Refusal.Outcome.failed.rawValue)
            // No head was delivered, so HTTPServerPipelineHandler expects no response: write below it.
            let pipelining = siblings.first { $0 is HTTPServerPipelineHandler }.flatMap {
                try? context.pipeline.syncOperations.context(handler: $0)
            }
            respond(
                status: .requestTimeout,
                reason: reason,
                version: .http1_1,
                event: .block(reason: reason, context: RequestContext(host: tunnelHost, method: "", path: "")),
                closeAfter: true,
                context: context,
                writingThrough: pipelining
            )
        case .clientHello, .tlsHandshake:
            state = .closed
            let reason =
                expired == .clientHello
                ? "egress: no TLS ClientHello within \(seconds) of CONNECT"
                : "egress: TLS handshake not completed within \(seconds)"
            services.events.emit(
                .block(reason: reason, context: RequestContext(host: tunnelHost, method: "CONNECT", path: tunnelHost)),
                minimum: .blocks
            )
            context.close(promise: nil)
        }
    }

    /// The tunnel's host for events, or "" on the plain listener.
    private var tunnelHost: String {
        if case .tunnel(let target) = mode { return target.description }
        return ""
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1_000_000_000
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    // MARK: Agent → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        // A part delivered from inside our own write of a response's end (the next pipelined
        // request) waits for the next tick: a pipeline of refusals is then served one after the
        // other, never by recursion as deep as the pipeline is long.
        if writingResponseEnd || !deferredParts.isEmpty {
            deferredParts.append(part)
            if !drainScheduled {
                drainScheduled = true
                context.eventLoop.assumeIsolated().execute { self.drainDeferredParts() }
            }
            return
        }
        handle(part, context: context)
    }

    private func drainDeferredParts() {
        drainScheduled = false
        guard let context else { return }
        while !writingResponseEnd, let part = deferredParts.popFirst() {
            handle(part, context: context)
        }
    }

    /// Writes a response's end; see ``channelRead(context:data:)`` for why this is tracked.
    private func writeResponseEnd(_ writer: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writingResponseEnd = true
        writer.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        writingResponseEnd = false
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
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
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(deadlines.connectionClosed(), context: context)
        if case .exchanging(let exchange) = state {
            settle(exchange, "failed")
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

    func read(context: ChannelHandlerContext) {
        if readsPaused {
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
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    // MARK: Deciding

    private func handleHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
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
            if let framing = RequestBodyFraming(plan.upstreamHead), [.noBody, .contentLength(0)].contains(framing) {
                exchange.replay = [.end(nil)]
            }
            connectUpstream(exchange, context: context)
        }
    }

    func connectUpstream(_ exchange: Exchange, fresh: Bool = false, context: ChannelHandlerContext) {
        pauseReads()
        services.pool(on: context.eventLoop).acquire(exchange.target, fresh: fresh) { result in
            self.upstreamAcquired(result, for: exchange)
        }
    }

    private func upstreamAcquired(_ result: Result<UpstreamConnection, UpstreamFailure>, for exchange: Exchange) {
        guard case .exchanging(let current) = state, current === exchange, let context else {
            // The agent left while we were connecting; the fresh connection is still clean.
            if case .success(let connection) = result {
                services.pool(on: connection.channel.eventLoop).release(connection, reusable: true)
            }
            return
        }
        switch result {
        case .failure(let failure):
            failExchange(
                exchange,
                status: HTTPResponseStatus(statusCode: failure.status),
                reason: failure.reason,
                context: context
            )
        case .success(let connection):
            exchange.connection = connection
            connection.handler.receiver = self
            connection.channel.write(HTTPClientRequestPart.head(exchange.upstreamHead), promise: nil)
            let buffered = exchange.buffered
            exchange.buffered = []
            for part in buffered {
                // A write can fail at once and end (or retry) this exchange from inside it.
                guard case .exchanging(let current) = state, current === exchange, exchange.connection === connection
                else { return }
                switch part {
                case .body(let buffer):
                    sendUpstream(body: buffer, exchange: exchange, connection: connection)
                case .end:
                    finishUpstreamRequest(exchange, connection: connection)
                case .head:
                    // Only body parts and the end are buffered; a head here was never judged.
                    state = .closed
                    context.close(promise: nil)
                    return
                }
            }
            guard case .exchanging(let current) = state, current === exchange, exchange.connection === connection
            else { return }
            connection.channel.flush()
            if connection.channel.isWritable { resumeReads() }
        }
    }

    /// Every request body byte goes upstream through here, so the level-2 log shows what was sent.
    /// A body behind a head without framing would be parsed upstream as another request: never sent.
    private func sendUpstream(body: ByteBuffer, exchange: Exchange, connection: UpstreamConnection) {
        if body.readableBytes > 0, (RequestBodyFraming(exchange.upstreamHead) ?? .noBody) == .noBody, let context {
            failExchange(exchange, status: .badRequest, reason: "egress: request body without framing", context: context)
            return
        }
        exchange.requestBody?.append(body.readableBytesView)
        connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
    }

    private func finishUpstreamRequest(_ exchange: Exchange, connection: UpstreamConnection) {
        connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        if exchange.upstreamResponseHead == nil, let context {
            exchange.responseTimer?.cancel()
            exchange.responseTimer = context.eventLoop.assumeIsolated().scheduleTask(
                in: services.upstreamSettings.responseTimeout
            ) {
                self.upstreamResponseTimedOut(exchange)
            }
        }
        if let body = exchange.requestBody {
            services.events.emit(
                .request(context: exchange.context, headers: exchange.upstreamHead.headers, body: body),
                minimum: .full
            )
        }
    }

    private func upstreamResponseTimedOut(_ exchange: Exchange) {
        guard case .exchanging(let current) = state, current === exchange, exchange.upstreamResponseHead == nil,
            let context
        else { return }
        let failure = UpstreamFailure.responseTimeout(target: exchange.target.description)
        failExchange(exchange, status: .gatewayTimeout, reason: failure.reason, context: context)
    }

    // MARK: CONNECT

    /// An admitted CONNECT: mint (or reuse) the host's certificate, then answer 200.
    private func openTunnel(to target: UpstreamTarget, head: HTTPRequestHead, context: ChannelHandlerContext) {
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
    private func completeTunnelIfReady(context: ChannelHandlerContext) {
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

    // MARK: Refusals

    private func refuse(
        _ head: HTTPRequestHead,
        _ refusal: Refusal,
        _ requestContext: RequestContext,
        closeAfter: Bool,
        context: ChannelHandlerContext
    ) {
        refuse(
            head,
            status: refusal.status,
            reason: refusal.reason,
            host: requestContext.host,
            path: requestContext.path,
            outcome: refusal.outcome,
            closeAfter: closeAfter,
            context: context
        )
    }

    private func refuse(
        _ head: HTTPRequestHead,
        status: HTTPResponseStatus,
        reason: String,
        host: String,
        path: String,
        outcome: Refusal.Outcome? = nil,
        closeAfter: Bool = false,
        context: ChannelHandlerContext
    ) {
        let event = EgressEvent.block(
            reason: reason,
            context: RequestContext(host: host, method: head.method.rawValue, path: path)
        )
        services.metrics.requestSettled((outcome ?? Refusal(status, reason).outcome).rawValue)
        let close = closeAfter || !head.isKeepAlive
        // The state first: writing the refusal's end can deliver this request's end (and the next
        // pipelined request) before `respond` returns.
        let written = context.eventLoop.makePromise(of: Void.self)
        state = .discarding(closeAfter: close ? written.futureResult : nil)
        respond(
            status: status,
            reason: reason,
            version: head.version,
            event: event,
            closeAfter: close,
            context: context,
            closeNow: false,
            promise: written
        )
    }

    /// An exchange failed before any response byte reached the agent. `eventContext` replaces the
    /// exchange's context in the block event when the path itself held a secret.
    func failExchange(
        _ exchange: Exchange,
        status: HTTPResponseStatus,
        reason: String,
        responseStatus: Int? = nil,
        eventContext: RequestContext? = nil,
        context: ChannelHandlerContext
    ) {
        exchange.responseTimer?.cancel()
        settle(exchange, Refusal(status, reason).outcome.rawValue)
        exchange.held.release()
        if let connection = exchange.connection {
            connection.handler.receiver = nil
            services.pool(on: context.eventLoop).release(connection, reusable: false)
            exchange.connection = nil
        }
        let closeAfter = exchange.closeClientAfter
        let event = EgressEvent.block(
            reason: reason,
            context: eventContext ?? exchange.context,
            responseStatus: responseStatus
        )
        // Before the refusal is written: it may deliver the next pipelined request, which may pause
        // reads for its own upstream.
        resumeReads()
        if exchange.requestEnded {
            state = closeAfter ? .closed : .idle
            if !closeAfter { awaitNextRequest(context: context) }
            respond(
                status: status,
                reason: reason,
                version: exchange.clientVersion,
                event: event,
                closeAfter: closeAfter,
                context: context
            )
        } else {
            let written = context.eventLoop.makePromise(of: Void.self)
            state = .discarding(closeAfter: closeAfter ? written.futureResult : nil)
            respond(
                status: status,
                reason: reason,
                version: exchange.clientVersion,
                event: event,
                closeAfter: closeAfter,
                context: context,
                closeNow: false,
                promise: written
            )
        }
    }

    /// Writes a JSON refusal. With `closeNow` the connection closes once it is written; otherwise
    /// the caller's state decides (a `.discarding` state closes at the request's end).
    @discardableResult
    private func respond(
        status: HTTPResponseStatus,
        reason: String,
        version: HTTPVersion,
        event: EgressEvent?,
        closeAfter: Bool,
        context: ChannelHandlerContext,
        closeNow: Bool = true,
        promise: EventLoopPromise<Void>? = nil,
        writingThrough writer: ChannelHandlerContext? = nil
    ) -> EventLoopFuture<Void> {
        let writer = writer ?? context
        if let event { services.events.emit(event, minimum: .blocks) }
        let (head, body) = BlockResponse.parts(
            status: status,
            reason: reason,
            version: version,
            close: closeAfter,
            allocator: context.channel.allocator
        )
        writer.write(wrapOutboundOut(.head(head)), promise: nil)
        writer.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        let written = done.futureResult
        if closeAfter && closeNow { close(context: context, after: written) }
        writeResponseEnd(writer, promise: done)
        return written
    }

    /// Closing with writes still queued would drop them: close once the last one is done.
    private func close(context: ChannelHandlerContext, after lastWrite: EventLoopFuture<Void>) {
        lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Finishing

    /// Counts the request in `egress_requests_total`, once: `forwarded` when its response was
    /// delivered, `blocked` or `failed` when it was refused or broke off.
    func settle(_ exchange: Exchange, _ decision: String) {
        guard !exchange.settled else { return }
        exchange.settled = true
        services.metrics.requestSettled(decision)
    }

    /// Settles the exchange, then writes the response's end. The state changes first: writing the
    /// end makes HTTPServerPipelineHandler deliver the next pipelined request synchronously, and
    /// that request must find the handler ready for it (docs/ARCHITECTURE.md, "Pipelining").
    func finishExchange(_ exchange: Exchange, context: ChannelHandlerContext) {
        settle(exchange, "forwarded")
        exchange.held.release()
        if let connection = exchange.connection {
            exchange.connection = nil
            services.pool(on: context.eventLoop).release(
                connection,
                reusable: exchange.upstreamReusable && exchange.requestEnded
            )
        }
        let lastWrite = context.eventLoop.makePromise(of: Void.self)
        if exchange.requestEnded {
            // A connection that closes takes no further request, pipelined or not.
            state = exchange.closeClientAfter ? .closed : .idle
            if !exchange.closeClientAfter { awaitNextRequest(context: context) }
        } else {
            // The upstream answered before the agent finished sending: drop the rest of the body.
            state = .discarding(closeAfter: exchange.closeClientAfter ? lastWrite.futureResult : nil)
        }
        if exchange.requestEnded && exchange.closeClientAfter { close(context: context, after: lastWrite.futureResult) }
        // Before the write: a request it delivers may pause reads again for its own upstream.
        resumeReads()
        writeResponseEnd(context, promise: lastWrite)
    }
}

// MARK: Upstream → agent

extension ProxyRequestHandler: UpstreamResponseReceiver {
    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        guard case .exchanging(let exchange) = state, let context else { return }
        switch part {
        case .head(let upstreamHead):
            exchange.responseTimer?.cancel()
            exchange.upstreamResponseHead = upstreamHead
            // The upstream answered: the request is no longer replayed, nor its held body kept.
            exchange.replay = nil
            exchange.held.release()
            if !upstreamHead.isKeepAlive { exchange.upstreamReusable = false }
            if exchange.dlp.scansResponse(upstreamHead, requestMethod: exchange.method) {
                if exchange.dlp.inboundAction == .block {
                    // Nothing reaches the agent until the scan has passed.
                    exchange.heldResponseBody = context.channel.allocator.buffer(capacity: 0)
                    return
                }
                exchange.inboundCopy = context.channel.allocator.buffer(capacity: 0)
            }
            writeResponseHead(upstreamHead, exchange: exchange, context: context)
        case .body(let buffer):
            exchange.responseBody?.append(buffer.readableBytesView)
            if exchange.heldResponseBody != nil {
                holdResponseBody(buffer, exchange: exchange, context: context)
                return
            }
            copyForInboundWarn(buffer, exchange: exchange)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable, let connection = exchange.connection {
                connection.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        case .end:
            exchange.responseEnded = true
            if let body = exchange.responseBody, let head = exchange.upstreamResponseHead {
                services.events.emit(
                    .response(
                        host: exchange.context.host,
                        status: Int(head.status.code),
                        headers: head.headers,
                        body: body
                    ),
                    minimum: .full
                )
            }
            if exchange.heldResponseBody != nil {
                scanHeldResponse(exchange, context: context)
                return
            }
            scanStreamedResponse(exchange)
            finishExchange(exchange, context: context)
        }
    }

    /// Writes the agent's response head, framed for the agent's connection.
    func writeResponseHead(_ upstreamHead: HTTPResponseHead, exchange: Exchange, context: ChannelHandlerContext) {
        var (head, closeAfter) = ResponseFraming.clientHead(
            from: upstreamHead,
            requestMethod: exchange.method,
            clientVersion: exchange.clientVersion
        )
        if closeAfter { exchange.closeClientAfter = true }
        if exchange.closeClientAfter { head.headers.replaceOrAdd(name: "connection", value: "close") }
        exchange.responseHeadSent = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() }
    }

    func upstreamDidClose(error: (any Error)?) {
        guard case .exchanging(let exchange) = state, let context else { return }
        let wasReused = exchange.connection?.wasReused ?? false
        exchange.connection = nil
        if exchange.responseHeadSent {
            // Part of the response is already with the agent: closing is the only honest signal.
            settle(exchange, "failed")
            state = .closed
            context.close(promise: nil)
        } else if wasReused, error == nil, exchange.upstreamResponseHead == nil, exchange.requestEnded,
            let replay = exchange.replay.take()
        {
            // A pooled connection the server closed while it was idle, before any response byte:
            // send the request once more on a fresh connection (docs/ARCHITECTURE.md, "Upstream reuse").
            exchange.responseTimer?.cancel()
            exchange.responseTimer = nil
            if exchange.requestBody != nil { exchange.requestBody = LoggedBody() }
            exchange.buffered = replay
            connectUpstream(exchange, fresh: true, context: context)
        } else {
            let failure = UpstreamFailure.closedEarly(target: exchange.target.description)
            failExchange(exchange, status: .badGateway, reason: failure.reason, context: context)
        }
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
