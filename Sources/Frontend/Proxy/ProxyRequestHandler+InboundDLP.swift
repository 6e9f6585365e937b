import NIOCore
import NIOHTTP1

/// Inbound DLP in the response path. `block` holds the response whole until a worker has scanned
/// it; `warn` streams it untouched and scans a copy alongside, so it adds no latency (README, "DLP").
extension ProxyRequestHandler {
    func holdResponseBody(_ buffer: ByteBuffer, exchange: Exchange, context: ChannelHandlerContext) {
        // Taken out while appending, so the buffer is uniquely referenced and grows in place.
        guard var held = exchange.heldResponseBody.take() else { return }
        guard exchange.held.grow(by: buffer.readableBytes) else {
            exchange.upstreamReusable = false
            blockResponse(exchange, HeldBytesBudget.busy, context: context)
            return
        }
        guard held.append(buffer, within: services.maxScanBytes) else {
            exchange.upstreamReusable = false
            blockResponse(
                exchange,
                BodyDecoding.Failure.tooLarge(limit: services.maxScanBytes).refusal,
                context: context
            )
            return
        }
        exchange.heldResponseBody = held
    }

    /// The held response is complete: scan it, then deliver it or refuse it.
    func scanHeldResponse(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let held = exchange.heldResponseBody, let head = exchange.upstreamResponseHead else { return }
        exchange.heldResponseBody = nil
        releaseUpstream(exchange, context: context)
        guard let scanner = services.scanner else {
            blockResponse(
                exchange,
                ScanFailure.unavailable.refusal,
                context: context
            )
            return
        }
        let job: ScanJob
        do {
            job = try inboundScan(of: held, head: head, exchange: exchange)
        } catch {
            blockResponse(exchange, error.refusal, context: context)
            return
        }
        guard exchange.held.grow(by: job.byteCount) else {
            blockResponse(exchange, HeldBytesBudget.busy, context: context)
            return
        }
        scanner.scan(job).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            guard case .exchanging(let current) = self.state, current === exchange, let context = self.context else {
                return
            }
            switch result {
            case .failure(let error):
                let failure = error as? ScanFailure ?? .workerError
                self.blockResponse(
                    exchange,
                    failure.refusal,
                    context: context
                )
            case .success(let outcome) where !outcome.isClean:
                self.services.metrics.dlpAction(direction: "inbound", action: "block")
                self.blockResponse(exchange, Refusal(.forbidden, DLPReason.inbound), context: context)
            case .success:
                var complete = head
                // The whole body is here: send it with its length, whatever framing the upstream used.
                complete.headers.remove(name: "transfer-encoding")
                complete.headers.replaceOrAdd(name: "content-length", value: String(held.readableBytes))
                self.writeResponseHead(complete, exchange: exchange, context: context)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(held))), promise: nil)
                self.finishExchange(exchange, context: context)
            }
        }
    }

    /// Keeps a bounded copy of a streamed response for the `warn` scan.
    func copyForInboundWarn(_ buffer: ByteBuffer, exchange: Exchange) {
        guard var copy = exchange.inboundCopy.take() else { return }
        // A copy that cannot grow is dropped, and so are the bytes it held.
        guard exchange.held.grow(by: buffer.readableBytes) else {
            exchange.held.shrink(by: copy.readableBytes)
            exchange.inboundCopyBusy = true
            return
        }
        guard copy.append(buffer, within: services.maxScanBytes) else {
            exchange.held.shrink(by: copy.readableBytes + buffer.readableBytes)
            exchange.inboundCopyOverflowed = true
            return
        }
        exchange.inboundCopy = copy
    }

    /// After a streamed response ended: scan the copy and report a hit as `egress_warn`. The agent
    /// already has the response; this only informs the operator.
    func scanStreamedResponse(_ exchange: Exchange) {
        guard let head = exchange.upstreamResponseHead else { return }
        let status = Int(head.status.code)
        let events = services.events
        let requestContext = exchange.context
        let metrics = services.metrics
        let warn: @Sendable (String) -> Void = { reason in
            events.emit(.warn(reason: reason, context: requestContext, responseStatus: status), minimum: .blocks)
        }
        if exchange.inboundCopyBusy {
            warn("egress DLP: response not scanned: \(HeldBytesBudget.busyReason)")
            return
        }
        if exchange.inboundCopyOverflowed {
            warn("egress DLP: response not scanned: larger than \(services.maxScanBytes) bytes")
            return
        }
        guard let copy = exchange.inboundCopy else { return }
        exchange.inboundCopy = nil
        guard let scanner = services.scanner else {
            warn("egress DLP: response not scanned: \(ScanFailure.unavailable.reason)")
            return
        }
        let job: ScanJob
        do {
            job = try inboundScan(of: copy, head: head, exchange: exchange)
        } catch {
            warn("egress DLP: response not scanned: \(error.reason)")
            return
        }
        // The response is delivered and the exchange ends before this scan does: its bytes are
        // counted on their own until the scan has finished.
        let scanHold = HeldBytesReservation(budget: services.heldBytes)
        guard scanHold.grow(by: job.byteCount) else {
            warn("egress DLP: response not scanned: \(HeldBytesBudget.busyReason)")
            return
        }
        scanner.scan(job).whenComplete { result in
            scanHold.release()
            switch result {
            case .success(let outcome) where !outcome.isClean:
                metrics.dlpAction(direction: "inbound", action: "warn")
                warn(DLPReason.inbound)
            case .success: break
            case .failure(let error):
                warn("egress DLP: response not scanned: \((error as? ScanFailure ?? .workerError).reason)")
            }
        }
    }

    /// The scan of a whole response body, decoded from its content coding first.
    func inboundScan(
        of body: ByteBuffer,
        head: HTTPResponseHead,
        exchange: Exchange
    ) throws(BodyDecoding.Failure) -> ScanJob {
        let decoded = try BodyDecoding.decode(
            body,
            codings: BodyDecoding.codings(head.headers),
            limit: services.maxScanBytes
        )
        return ScanJob(
            direction: .inbound,
            detectorIDs: exchange.dlp.inboundDetectors,
            redact: false,
            segments: [Array(decoded.readableBytesView)]
        )
    }

    /// Refuses a response the agent has not seen any of; the event carries the upstream status.
    func blockResponse(_ exchange: Exchange, _ refusal: Refusal, context: ChannelHandlerContext) {
        let upstreamStatus = exchange.upstreamResponseHead.map { Int($0.status.code) }
        failExchange(exchange, refusal, responseStatus: upstreamStatus, context: context)
    }

    /// The response is fully read: the upstream connection can serve others while we scan.
    func releaseUpstream(_ exchange: Exchange, context: ChannelHandlerContext) {
        guard let connection = exchange.connection else { return }
        exchange.connection = nil
        services.pool(on: context.eventLoop).release(
            connection,
            reusable: exchange.upstreamReusable && exchange.requestEnded
        )
    }
}
