import Detectors
import NIOCore
import NIOHTTP1

/// Inbound DLP in the response path. `block` holds the response whole until a worker has scanned
/// it; `warn` streams it untouched and scans a copy alongside, so it adds no latency (README, "DLP").
extension ProxyRequestHandler {
    /// A response held whole: the verdict decides whether the agent gets it.
    func scanResponse(_ id: Machine.ExchangeID, _ scan: Machine.ResponseScan, context: ChannelHandlerContext) {
        guard let scanner = services.scanner else {
            handle(.responseScanned(id, .refuse(ScanFailure.unavailable.refusal)))
            return
        }
        let job: ScanJob
        do {
            job = try inboundJob(scan)
        } catch {
            handle(.responseScanned(id, .refuse(error.refusal)))
            return
        }
        let scanHold = HeldBytesReservation(budget: services.heldBytes)
        guard scanHold.grow(by: job.byteCount) else {
            handle(.responseScanned(id, .refuse(HeldBytesBudget.busy)))
            return
        }
        scanner.scan(job).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            scanHold.release()
            switch result {
            case .failure(let error):
                self.handle(.responseScanned(id, .refuse((error as? ScanFailure ?? .workerError).refusal)))
            case .success(let outcome) where !outcome.isClean:
                let detectors = outcome.findings.map(\.detectorID)
                let (reachesThreshold, reason) = DLPReason.inbound(detectors, threshold: scan.dlp.inboundThreshold)
                guard reachesThreshold else {
                    // Below the route's threshold: delivered, and the operator is told.
                    self.services.metrics.dlpAction(direction: "inbound", action: "warn")
                    self.services.events.emit(
                        .warn(reason: reason, context: scan.context, responseStatus: Int(scan.head.status.code), events: scan.events),
                        minimum: .blocks
                    )
                    self.handle(.responseScanned(id, .deliver))
                    return
                }
                self.services.metrics.dlpAction(direction: "inbound", action: "block")
                self.handle(.responseScanned(id, .refuse(Refusal(.forbidden, reason))))
            case .success:
                self.handle(.responseScanned(id, .deliver))
            }
        }
    }

    /// After a streamed response ended: scan the copy and report a hit as `egress_warn`. The agent
    /// already has the response; this only informs the operator.
    /// The future completes when the copy has been dealt with, scanned or not.
    @discardableResult
    func scanResponseCopy(_ scan: Machine.ResponseScan, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let status = Int(scan.head.status.code)
        let events = services.events
        let metrics = services.metrics
        let warn: @Sendable (String) -> Void = { reason in
            events.emit(.warn(reason: reason, context: scan.context, responseStatus: status, events: scan.events), minimum: .blocks)
        }
        guard let scanner = services.scanner else {
            warn("egress DLP: response not scanned: \(ScanFailure.unavailable.reason)")
            return loop.makeSucceededVoidFuture()
        }
        let job: ScanJob
        do {
            job = try inboundJob(scan)
        } catch {
            warn("egress DLP: response not scanned: \(error.reason)")
            return loop.makeSucceededVoidFuture()
        }
        // The exchange ends before this scan does: the scan's bytes are counted on their own.
        let scanHold = HeldBytesReservation(budget: services.heldBytes)
        guard scanHold.grow(by: job.byteCount) else {
            warn("egress DLP: response not scanned: \(HeldBytesBudget.busyReason)")
            return loop.makeSucceededVoidFuture()
        }
        let scanned = scanner.scan(job)
        scanned.whenComplete { result in
            scanHold.release()
            switch result {
            case .success(let outcome) where !outcome.isClean:
                metrics.dlpAction(direction: "inbound", action: "warn")
                warn(DLPReason.inbound(outcome.findings.map(\.detectorID), threshold: scan.dlp.inboundThreshold).reason)
            case .success: break
            case .failure(let error):
                warn("egress DLP: response not scanned: \((error as? ScanFailure ?? .workerError).reason)")
            }
        }
        return scanned.map { _ in () }.recover { _ in () }
    }

    /// The scan of a whole response body, decoded from its content coding first, with its decoded
    /// views (fetched content is JSON more often than not: escapes must not hide a phrase).
    func inboundJob(_ scan: Machine.ResponseScan) throws(InboundScanFailure) -> ScanJob {
        let decoded: ByteBuffer
        do {
            decoded = try BodyDecoding.decode(scan.body, headers: scan.head.headers, limit: services.maxScanBytes)
        } catch {
            throw .decoding(error)
        }
        var raw = [Array(decoded.readableBytesView)]
        if let trailers = scan.trailers {
            raw.append(Array(trailers.map { "\($0.name): \($0.value)\n" }.joined().utf8))
        }
        let views: DecodedViews
        do {
            views = try DecodedViews(raw: raw, syntax: [0: SegmentSyntax.of(scan.head.headers)], inbound: true)
        } catch {
            throw .views(error)
        }
        return ScanJob(direction: .inbound, detectorIDs: scan.dlp.inboundDetectors, redact: false, segments: views.inboundSegments)
    }
}

/// Why a response could not be made ready for its scan.
enum InboundScanFailure: Error {
    case decoding(BodyDecoding.Failure)
    case views(DecodedViews.Failure)

    var refusal: Refusal {
        switch self {
        case .decoding(let failure): failure.refusal
        case .views(let failure): failure.refusal
        }
    }

    var reason: String { refusal.reason }
}
