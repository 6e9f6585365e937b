import Detectors
import IPC
import NIOCore
import NIOHTTP1

/// Outbound DLP in the request path: the held request is decoded, scanned in a worker, and the
/// outcome turned into a verdict for the machine — block, redact, supervise, warn or clean
/// (README, "DLP").
extension ProxyRequestHandler {
    func scanRequest(_ id: Machine.ExchangeID, _ scan: Machine.RequestScan, context: ChannelHandlerContext) {
        guard let scanner = services.scanner else {
            handle(.outboundDecided(id, .refuse(ScanFailure.unavailable.refusal, eventContext: nil)))
            return
        }
        let decoded: ByteBuffer
        do {
            decoded = try BodyDecoding.decode(scan.body, headers: scan.head.headers, limit: services.maxScanBytes)
        } catch {
            handle(.outboundDecided(id, .refuse(error.refusal, eventContext: nil)))
            return
        }
        let plan: OutboundScanPlan
        do {
            plan = try OutboundScanPlan(head: scan.head, injectedHeader: scan.dlp.injectedHeader, decodedBody: decoded)
        } catch {
            handle(.outboundDecided(id, .refuse(error.refusal, eventContext: nil)))
            return
        }
        // Redaction is applied here, to the raw segments, from findings mapped out of the views.
        let job = ScanJob(
            direction: .outbound,
            detectorIDs: scan.dlp.outboundDetectors,
            redact: false,
            segments: plan.scanSegments
        )
        // The decoded body and the scan's copy are held too, until the scan is done (gzip can make
        // a small body large).
        let scanHold = HeldBytesReservation(budget: services.heldBytes)
        guard scanHold.grow(by: decoded.readableBytes + job.byteCount) else {
            handle(.outboundDecided(id, .refuse(HeldBytesBudget.busy, eventContext: nil)))
            return
        }
        scanner.scan(job).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            scanHold.release()
            self.requestScanned(id, result, scan: scan, plan: plan)
        }
    }

    func requestScanned(
        _ id: Machine.ExchangeID,
        _ result: Result<ScanOutcome, any Error>,
        scan: Machine.RequestScan,
        plan: OutboundScanPlan
    ) {
        guard let context else { return }
        let findings: [WireFinding]
        switch result {
        case .failure(let error):
            handle(.outboundDecided(id, .refuse((error as? ScanFailure ?? .workerError).refusal, eventContext: nil)))
            return
        case .success(let outcome):
            findings = plan.rawFindings(outcome.findings)
        }
        guard let first = findings.min(by: { ($0.segment, $0.start) < ($1.segment, $1.start) }) else {
            handle(.outboundDecided(id, .forward(scan.head, body: scan.body)))
            return
        }
        let reason = DLPReason.outbound(first.detectorID)
        let action = scan.dlp.outboundAction
        services.metrics.dlpAction(direction: "outbound", action: action.rawValue)
        let eventContext = Self.contextWithoutSecrets(scan.context, target: plan.segments[0], findings: findings)
        var detectors: [String] = []
        for finding in findings where !detectors.contains(finding.detectorID) {
            detectors.append(finding.detectorID)
        }
        switch action {
        case .block:
            handle(.outboundDecided(id, .refuse(Refusal(.forbidden, reason), eventContext: eventContext)))
        case .supervise:
            holdForOperator(
                id,
                scan: scan,
                plan: plan,
                findings: findings,
                detectors: detectors,
                reason: reason,
                eventContext: eventContext,
                context: context
            )
        case .warn:
            services.events.emit(.warn(reason: reason, context: eventContext), minimum: .blocks)
            handle(.outboundDecided(id, .forward(scan.head, body: scan.body)))
        case .redact:
            var head = scan.head
            let body = plan.applyRedaction(findings, to: &head, allocator: context.channel.allocator)
            services.events.emit(.redact(reason: reason, context: eventContext, detectors: detectors), minimum: .blocks)
            handle(.outboundDecided(id, .forward(head, body: body ?? scan.body)))
        }
    }

    /// Parks the request in the supervision queue; the agent's connection stays open until the
    /// operator approves (forwarded unchanged), denies, or the timeout denies it as expired. A
    /// standing decision for the route, host and detectors settles it at once instead.
    func holdForOperator(
        _ id: Machine.ExchangeID,
        scan: Machine.RequestScan,
        plan: OutboundScanPlan,
        findings: [WireFinding],
        detectors: [String],
        reason: String,
        eventContext: RequestContext,
        context: ChannelHandlerContext
    ) {
        // Worker offsets were checked against the segments when the reply arrived (ScanReplyCheck),
        // and mapped back into the raw segments.
        let previews = findings.map { finding in
            MaskedPreview.of(plan.segments[Int(finding.segment)][Int(finding.start)..<Int(finding.end)])
        }
        let result = services.supervision.hold(
            route: scan.dlp.route,
            host: eventContext.host,
            origin: scan.dlp.origin,
            method: eventContext.method,
            path: eventContext.path,
            detectors: detectors,
            labels: detectors.map(DLPReason.label),
            previews: previews,
            timeout: services.superviseTimeout,
            limit: services.limits.maxHeldRequests,
            on: context.eventLoop
        )
        let events = services.events
        let emit: (String, SupervisionQueue.HeldRequest, SupervisionBook.Settlement?) -> Void = { status, held, settled in
            events.emit(
                .supervise(
                    status: status,
                    id: held.id,
                    reason: reason,
                    context: eventContext,
                    detectors: detectors,
                    previews: previews,
                    by: settled?.by,
                    rule: settled?.rule?.id
                ),
                minimum: .blocks
            )
        }
        let verdict: (SupervisionBook.Settlement) -> Machine.OutboundVerdict = { settled in
            switch settled.decision {
            case .approved:
                return .forward(scan.head, body: scan.body)
            case .denied where settled.by == .shutdown:
                return .refuse(
                    Refusal(.serviceUnavailable, "\(reason) (egress is stopping; nobody can decide)"),
                    eventContext: eventContext
                )
            case .denied where settled.by == .rule:
                let rule = settled.rule?.id ?? ""
                return .refuse(Refusal(.forbidden, "\(reason) (denied by standing decision \(rule))"), eventContext: eventContext)
            case .denied, .abandoned:
                return .refuse(Refusal(.forbidden, "\(reason) (denied by the operator)"), eventContext: eventContext)
            case .expired:
                return .refuse(Refusal(.forbidden, "\(reason) (no operator decision in time)"), eventContext: eventContext)
            }
        }
        switch result {
        case .full(let limit):
            let refusal = Refusal(.serviceUnavailable, "egress: too many requests held for the operator (\(limit))")
            handle(.outboundDecided(id, .refuse(refusal, eventContext: eventContext)))
        case .decided(let settled):
            emit(settled.decision.rawValue, settled.request, settled)
            handle(.outboundDecided(id, verdict(settled)))
        case .held(let held, let decision):
            emit("held", held, nil)
            handle(.outboundDecided(id, .awaitOperator(supervisionID: held.id)))
            decision.assumeIsolated().whenSuccess { settled in
                emit(settled.decision.rawValue, held, settled)
                self.handle(.outboundDecided(id, verdict(settled)))
            }
        }
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
