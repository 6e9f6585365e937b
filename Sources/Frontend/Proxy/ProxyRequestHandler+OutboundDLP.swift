import Detectors
import IPC
import NIOCore
import NIOHTTP1

/// Outbound DLP in the request path: the request is held whole, scanned in a worker, then
/// blocked, redacted, forwarded with a warning, or forwarded clean (README, "DLP").
extension ProxyRequestHandler {
    func holdRequestBody(_ buffer: ByteBuffer, exchange: Exchange, context: ChannelHandlerContext) {
        // Taken out while appending, so the buffer is uniquely referenced and grows in place.
        guard var held = exchange.heldRequestBody.take() else { return }
        guard exchange.held.grow(by: buffer.readableBytes) else {
            failExchange(exchange, HeldBytesBudget.busy, context: context)
            return
        }
        guard held.append(buffer, within: services.maxScanBytes) else {
            failExchange(
                exchange,
                BodyDecoding.Failure.tooLarge(limit: services.maxScanBytes).refusal,
                context: context
            )
            return
        }
        exchange.heldRequestBody = held
    }

    /// The request has ended: decode its body and send everything to a scanner.
    func scanRequest(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let held = exchange.heldRequestBody, let scanner = services.scanner else { return }
        exchange.heldRequestBody = nil
        pauseReads()
        let decoded: ByteBuffer
        do {
            decoded = try BodyDecoding.decode(
                held,
                codings: BodyDecoding.codings(exchange.upstreamHead.headers),
                limit: services.maxScanBytes
            )
        } catch {
            failExchange(exchange, error.refusal, context: context)
            return
        }
        let plan = OutboundScanPlan(
            head: exchange.upstreamHead,
            injectedHeader: exchange.dlp.injectedHeader,
            decodedBody: decoded
        )
        let job = ScanJob(
            direction: .outbound,
            detectorIDs: exchange.dlp.outboundDetectors,
            redact: exchange.dlp.outboundAction == .redact,
            segments: plan.segments
        )
        // The decoded body and the scan's copy are held too (gzip can make a small body large).
        guard exchange.held.grow(by: decoded.readableBytes + job.byteCount) else {
            failExchange(exchange, HeldBytesBudget.busy, context: context)
            return
        }
        scanner.scan(job).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            self.requestScanned(result, plan: plan, heldBody: held, exchange: exchange)
        }
    }

    func requestScanned(
        _ result: Result<ScanOutcome, any Error>,
        plan: OutboundScanPlan,
        heldBody: ByteBuffer,
        exchange: Exchange
    ) {
        guard case .exchanging(let current) = state, current === exchange, let context else { return }
        let outcome: ScanOutcome
        switch result {
        case .failure(let error):
            let failure = error as? ScanFailure ?? .workerError
            failExchange(
                exchange,
                failure.refusal,
                context: context
            )
            return
        case .success(let success):
            outcome = success
        }
        guard let first = outcome.findings.min(by: { ($0.segment, $0.start) < ($1.segment, $1.start) }) else {
            forward(exchange, body: heldBody, context: context)
            return
        }
        let reason = DLPReason.outbound(first.detectorID)
        services.metrics.dlpAction(direction: "outbound", action: exchange.dlp.outboundAction.rawValue)
        let eventContext = Self.contextWithoutSecrets(
            exchange.context,
            target: plan.segments[0],
            findings: outcome.findings
        )
        switch exchange.dlp.outboundAction {
        case .block:
            failExchange(exchange, Refusal(.forbidden, reason), eventContext: eventContext, context: context)
        case .supervise:
            holdForOperator(
                exchange,
                outcome: outcome,
                plan: plan,
                heldBody: heldBody,
                reason: reason,
                eventContext: eventContext,
                context: context
            )
        case .warn:
            services.events.emit(.warn(reason: reason, context: eventContext), minimum: .blocks)
            forward(exchange, body: heldBody, context: context)
        case .redact:
            guard let redacted = outcome.redactedSegments, redacted.count == plan.segments.count else {
                failExchange(
                    exchange,
                    ScanFailure.workerError.refusal,
                    context: context
                )
                return
            }
            var head = exchange.upstreamHead
            let body = plan.applyRedaction(redacted, to: &head, allocator: context.channel.allocator)
            exchange.upstreamHead = head
            var detectors: [String] = []
            for finding in outcome.findings where !detectors.contains(finding.detectorID) {
                detectors.append(finding.detectorID)
            }
            services.events.emit(.redact(reason: reason, context: eventContext, detectors: detectors), minimum: .blocks)
            forward(exchange, body: body ?? heldBody, context: context)
        }
    }

    /// Parks the request in the supervision queue; the agent's connection stays open until the
    /// operator approves (forwarded unchanged), denies, or the timeout denies it as expired.
    func holdForOperator(
        _ exchange: Exchange,
        outcome: ScanOutcome,
        plan: OutboundScanPlan,
        heldBody: ByteBuffer,
        reason: String,
        eventContext: RequestContext,
        context: ChannelHandlerContext
    ) {
        guard services.supervision.pending().count < services.limits.maxHeldRequests else {
            failExchange(
                exchange,
                Refusal(
                    .serviceUnavailable,
                    "egress: too many requests held for the operator (\(services.limits.maxHeldRequests))"
                ),
                eventContext: eventContext,
                context: context
            )
            return
        }
        var detectors: [String] = []
        for finding in outcome.findings where !detectors.contains(finding.detectorID) {
            detectors.append(finding.detectorID)
        }
        let previews = outcome.findings.map { finding in
            MaskedPreview.of(plan.segments[Int(finding.segment)][Int(finding.start)..<Int(finding.end)])
        }
        let (held, decision) = services.supervision.hold(
            host: eventContext.host,
            method: eventContext.method,
            path: eventContext.path,
            detectors: detectors,
            labels: detectors.map(DLPReason.label),
            previews: previews,
            timeout: services.superviseTimeout,
            on: context.eventLoop
        )
        exchange.supervisionID = held.id
        let events = services.events
        let emit: (SupervisionQueue.Decision?) -> Void = { decision in
            events.emit(
                .supervise(
                    status: decision?.rawValue ?? "held",
                    id: held.id,
                    reason: reason,
                    context: eventContext,
                    detectors: detectors,
                    previews: previews
                ),
                minimum: .blocks
            )
        }
        emit(nil)
        decision.assumeIsolated().whenSuccess { decision in
            emit(decision)
            exchange.supervisionID = nil
            guard case .exchanging(let current) = self.state, current === exchange, let context = self.context else {
                return
            }
            switch decision {
            case .approved:
                self.forward(exchange, body: heldBody, context: context)
            case .denied, .abandoned:
                self.failExchange(
                    exchange,
                    Refusal(.forbidden, "\(reason) (denied by the operator)"),
                    eventContext: eventContext,
                    context: context
                )
            case .expired:
                self.failExchange(
                    exchange,
                    Refusal(.forbidden, "\(reason) (no operator decision in time)"),
                    eventContext: eventContext,
                    context: context
                )
            }
        }
    }

    /// Sends the decided request: the upstream connection is opened only now.
    func forward(_ exchange: Exchange, body: ByteBuffer, context: ChannelHandlerContext) {
        exchange.buffered = body.readableBytes > 0 ? [.body(body), .end(nil)] : [.end(nil)]
        // Held whole, so it can be sent again if a reused upstream connection fails at once.
        if UpstreamRequestBuilder.mayRetry(exchange.upstreamHead) { exchange.replay = exchange.buffered }
        connectUpstream(exchange, context: context)
    }

    /// Events name the path; when a secret sits in the path, the event shows it redacted.
    static func contextWithoutSecrets(
        _ context: RequestContext,
        target: [UInt8],
        findings: [WireFinding]
    ) -> RequestContext {
        let inTarget = findings.filter { $0.segment == UInt32(OutboundScanPlan.targetSegment) }
        guard !inTarget.isEmpty else { return context }
        let redacted = Redactor.redact(
            target,
            findings: inTarget.map { Finding(detectorID: $0.detectorID, start: Int($0.start), end: Int($0.end)) }
        )
        var safe = context
        safe.path = String(String(decoding: redacted, as: UTF8.self).prefix { $0 != "?" })
        return safe
    }
}
