import EgressRoutes
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// The agent-facing end of the proxy. It decides nothing itself: it turns what the agent, the
/// upstream, the scanners and its timers report into ``ExchangeStateMachine`` events and performs
/// the actions the machine returns (docs/ARCHITECTURE.md, "The exchange state machine").
///
/// One instance serves the plain listener connection (absolute-form requests and `CONNECT`);
/// after an allowed `CONNECT` a fresh instance in tunnel mode serves the decrypted requests, or,
/// when the agent chose HTTP/2, one instance per stream serves that stream's one request.
final class ProxyRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    typealias Machine = ExchangeStateMachine<UpstreamConnection>

    enum Mode {
        case forwardProxy
        case tunnel(UpstreamTarget)
    }

    let mode: Mode
    /// This handler serves one HTTP/2 stream.
    let onHTTP2Stream: Bool
    let services: ProxyServices
    /// The HTTP handlers installed beside this one, removed when a tunnel replaces them.
    let siblings: [any RemovableChannelHandler]
    var machine: Machine
    private(set) var context: ChannelHandlerContext?
    /// Events that arrive while actions are being performed (a write can deliver the next
    /// pipelined request, or fail and close a channel) wait and are handled right after, in order.
    private let events = EventDrain<Machine.Event>()
    var readsPaused = false
    var readPending = false
    /// Between the agent's channelRead and its read-complete; flushes upstream wait for the latter.
    private var readingFromAgent = false
    private var deferredUpstreamFlush: UpstreamConnection?
    /// The one connection deadline in force (idle, request head, TLS handshake, discarded body).
    var deadlineTimer: CoalescingTimer<ConnectionDeadlines.Deadline>?
    /// The current exchange's upstream response timeout.
    var responseTimer: CoalescingTimer<Machine.ExchangeID>?
    /// The last response end or refusal written: a close waits for it.
    var lastWrite: EventLoopFuture<Void>?
    /// The intercepting certificate of a tunnel being opened.
    var tunnelContext: NIOSSLContext?

    /// - Parameter onHTTP2Stream: an HTTP/2 stream, whose connection has done its TLS handshake
    ///   already: no ClientHello or handshake deadline applies to it.
    init(mode: Mode, services: ProxyServices, siblings: [any RemovableChannelHandler], onHTTP2Stream: Bool = false) {
        self.onHTTP2Stream = onHTTP2Stream
        self.mode = mode
        self.services = services
        self.siblings = siblings
        var tunnelTarget: UpstreamTarget?
        if case .tunnel(let target) = mode { tunnelTarget = target }
        machine = Machine(
            configuration: Machine.Configuration(
                timeouts: services.connectionTimeouts,
                tunnelTarget: tunnelTarget,
                awaitsClientHello: tunnelTarget != nil && !onHTTP2Stream,
                maxScanBytes: services.maxScanBytes,
                heldBytes: services.heldBytes
            )
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Both timers keep this handler until handlerRemoved stops them.
        deadlineTimer = CoalescingTimer(loop: context.eventLoop) { deadline in
            self.handle(.deadlineExpired(deadline))
        }
        responseTimer = CoalescingTimer(loop: context.eventLoop) { id in
            self.handle(.responseTimedOut(id))
        }
        for action in machine.initialActions { perform(action, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed mid-exchange (never on our own paths: a tunnel swap removes it closed), the
        // exchange still ends: settled, its bytes and connection given back.
        if case .exchanging = machine.state {
            for action in machine.handle(.agentClosed) { perform(action, context: context) }
        }
        deadlineTimer?.stop()
        deadlineTimer = nil
        responseTimer?.stop()
        responseTimer = nil
        self.context = nil
    }

    /// Hands `event` to the machine and performs what it returns; see ``events``.
    func handle(_ event: Machine.Event) {
        events.submit(event) { next in
            // Removed from the pipeline: nothing is left to perform on.
            guard let context else { return false }
            for action in machine.handle(next) { perform(action, context: context) }
            return true
        }
    }

    // MARK: Agent → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readingFromAgent = true
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Level 2 records bodies; the level is read per request, as a reload may change it.
            handle(.requestHead(head, admission(of: head), capturesBodies: services.events.isEnabled(.full)))
        case .body(let buffer):
            handle(.requestBody(buffer))
        case .end(let trailers):
            if let trailers, !trailers.isEmpty { handle(.requestTrailers(trailers)) }
            handle(.requestEnd)
        }
    }

    /// Admission is a pure function of the head, this connection's mode and the policy in force.
    func admission(of head: HTTPRequestHead) -> RequestAdmission {
        let environment = RequestAdmission.Environment(
            isOwnAddress: { [ownListeners = services.ownListeners] host, port in
                ownListeners.contains(numericHost: host, port: port)
            },
            scannerAvailable: services.scanner != nil,
            maxScanBytes: services.maxScanBytes,
            onHTTP2Stream: onHTTP2Stream
        )
        return RequestAdmission.decide(head, mode: mode, policy: services.policy, environment: environment)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readingFromAgent = false
        if let connection = deferredUpstreamFlush {
            deferredUpstreamFlush = nil
            connection.channel.flush()
        }
        handle(.agentReadComplete)
    }

    /// Flushes to the upstream now, or at the end of the agent's read when one is under way: a
    /// request whose head, body and end arrive in one read then leaves in one write (one TLS
    /// record train, one syscall) instead of one per part (README, "Benchmarks"). NIO ends every
    /// delivery of request parts with a read-complete, pipelined ones included.
    private func flushUpstream(_ connection: UpstreamConnection) {
        if readingFromAgent {
            if let other = deferredUpstreamFlush, other !== connection { other.channel.flush() }
            deferredUpstreamFlush = connection
        } else {
            connection.channel.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        handle(.agentWritabilityChanged(isWritable: context.channel.isWritable))
        readIfPending()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handle(.agentClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            handle(.malformedRequest)
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

    // MARK: Performing

    func perform(_ action: Machine.Action, context: ChannelHandlerContext) {
        switch action {
        case .deadline(let deadline):
            perform(deadline, context: context)
        case .pauseReads:
            readsPaused = true
        case .resumeReads:
            resumeReads()
        case .writeContinue(let version):
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
        case .writeResponseHead(let head):
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .writeResponseBody(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .writeEvents(let events, let releasingHeld):
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { [heldBytes = services.heldBytes] _ in heldBytes.giveBack(releasingHeld) }
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(events))), promise: written)
        case .writeResponseEnd(let releasingHeld, let trailers):
            let written = context.eventLoop.makePromise(of: Void.self)
            lastWrite = written.futureResult
            if releasingHeld > 0 {
                written.futureResult.whenComplete { [heldBytes = services.heldBytes] _ in
                    heldBytes.giveBack(releasingHeld)
                }
            }
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: written)
        case .writeRefusal(let response):
            writeRefusal(response, context: context)
        case .closeAfterWrites:
            if let lastWrite {
                lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        case .closeNow:
            context.close(promise: nil)
        case .issueCertificate(let host):
            issueCertificate(for: host, context: context)
        case .establishTunnel(let target, let version):
            establishTunnel(to: target, version: version, context: context)
        case .upgradeToWebSocket(let connection, let upgrade):
            upgradeToWebSocket(connection, upgrade, context: context)
        case .acquireUpstream(let id, let target, let fresh, let http1Only):
            acquireUpstream(id, target: target, fresh: fresh, http1Only: http1Only, context: context)
        case .releaseUpstream(let connection, let reusable):
            services.pool(on: context.eventLoop).release(connection, reusable: reusable)
        case .writeUpstreamHead(let connection, let head):
            connection.sentRequest = true
            connection.channel.write(HTTPClientRequestPart.head(head), promise: nil)
        case .writeUpstreamBody(let connection, let body):
            connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            if !connection.channel.isWritable { readsPaused = true }
        case .writeUpstreamEnd(let connection, let trailers):
            connection.channel.write(HTTPClientRequestPart.end(trailers), promise: nil)
            flushUpstream(connection)
        case .flushUpstream(let connection):
            flushUpstream(connection)
        case .resumeReadsIfWritable(let connection):
            if connection.channel.isWritable { resumeReads() }
        case .setUpstreamAutoRead(let connection, let autoRead):
            connection.channel.setOption(ChannelOptions.autoRead, value: autoRead).whenFailure { _ in }
        case .armResponseTimer(let id):
            responseTimer?.arm(id, in: services.upstreamSettings.responseTimeout)
        case .cancelResponseTimer:
            responseTimer?.disarm()
        case .scanRequest(let id, let scan):
            scanRequest(id, scan, context: context)
        case .scanResponse(let id, let scan):
            scanResponse(id, scan, context: context)
        case .scanResponseCopy(let scan):
            scanResponseCopy(scan, on: context.eventLoop)
        case .scanEventCopy(let id, let scan):
            scanResponseCopy(scan, on: context.eventLoop).hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in
                self.handle(.eventCopyScanned(id))
            }
        case .abandonSupervision(let id):
            // An agent that gave up no longer waits for the operator.
            services.supervision.abandon(id)
        case .settle(let decision):
            services.metrics.requestSettled(decision)
        case .releaseHeld(let count):
            services.heldBytes.giveBack(count)
        case .emit(let event, let minimum):
            services.events.emit(event, minimum: minimum)
        }
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
