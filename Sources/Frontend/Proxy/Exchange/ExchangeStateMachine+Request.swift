import NIOCore
import NIOHTTP1

/// Agent → upstream: admission, the body held for DLP or streamed, the verdict, the connection.
extension ExchangeStateMachine {
    mutating func requestHead(_ head: HTTPRequestHead, _ admission: RequestAdmission, capturesBodies: Bool) -> [Action] {
        // A connection that is closing takes no further request; its last response is still
        // being written, so it is not cut off either.
        if case .closed = state { return [] }
        guard case .idle = state else {
            // HTTPServerPipelineHandler delivers one request at a time; a head in any other state was
            // never judged.
            return protocolViolation()
        }
        var actions: [Action] = [.deadline(deadlines.requestHeadReceived())]
        switch admission {
        case .refuse(let refusal, let context, let closeConnection):
            // The rest of the request is read and dropped; the connection closes after it when the
            // request was too broken to read another, or the agent asked to.
            let close = closeConnection || head.closesConnectionAfter
            state = .discarding(closeAfter: close)
            actions.append(.settle(refusal.outcome.rawValue))
            actions.append(.deadline(deadlines.discardingBody()))
            actions.append(
                .writeRefusal(
                    RefusalResponse(
                        refusal: refusal,
                        version: head.version,
                        event: .block(reason: refusal.reason, context: context),
                        closeConnection: close
                    )
                )
            )
        case .openTunnel(let target, _):
            state = .openingTunnel(TunnelSetup(target: target, version: head.version))
            actions += [.pauseReads, .issueCertificate(host: target.host)]
        case .forward(let plan):
            let id = makeID()
            let holds = !plan.dlp.outboundDetectors.isEmpty
            var exchange = Exchange(
                id: id,
                plan: plan,
                clientHead: head,
                phase: holds ? .receivingBodyForScan(ByteBuffer()) : .connecting(pending: [])
            )
            if capturesBodies {
                exchange.requestLog = LoggedBody()
                exchange.responseLog = LoggedBody()
            }
            if plan.expectsContinue { actions.append(.writeContinue(head.version)) }
            if holds {
                // The held body pins budget until it ends: it must end in time.
                actions.append(.deadline(deadlines.holdingRequestBody()))
            } else {
                // Without a body it can be sent again as it is, should a reused connection fail.
                if UpstreamRequestBuilder.mayRetry(plan.upstreamHead),
                    [.noBody, .contentLength(0)].contains(exchange.framing)
                {
                    exchange.replay = [.end(nil)]
                }
                actions += [.pauseReads, .acquireUpstream(id, plan.target, fresh: plan.webSocket != nil, http1Only: plan.webSocket != nil)]
            }
            state = .exchanging(exchange)
        }
        return actions
    }

    mutating func requestBody(_ buffer: ByteBuffer) -> [Action] {
        switch state {
        case .discarding, .openingTunnel, .closed:
            return []
        case .idle, .modifying:
            return protocolViolation()
        case .exchanging(var exchange):
            if exchange.requestEnded { return protocolViolation() }
            // A body behind a head without framing would be parsed upstream as another request.
            if buffer.readableBytes > 0, exchange.framing == .noBody {
                return fail(exchange, Refusal(.badRequest, "egress: request body without framing"))
            }
            state = .modifying
            switch exchange.phase {
            case .receivingBodyForScan(var held):
                exchange.phase = .scanningRequest  // not kept: `held` is uniquely referenced below
                guard reserve(buffer.readableBytes, for: &exchange) else {
                    return fail(exchange, HeldBytesBudget.busy)
                }
                guard held.append(buffer, within: configuration.maxScanBytes) else {
                    return fail(exchange, BodyDecoding.Failure.tooLarge(limit: configuration.maxScanBytes).refusal)
                }
                exchange.phase = .receivingBodyForScan(held)
                state = .exchanging(exchange)
                return []
            case .connecting(var pending):
                exchange.phase = .scanningRequest
                pending.append(.body(buffer))
                exchange.phase = .connecting(pending: pending)
                state = .exchanging(exchange)
                return []
            case .relaying(let connection, _, _):
                exchange.requestLog?.append(buffer.readableBytesView)
                state = .exchanging(exchange)
                return [.writeUpstreamBody(connection, buffer)]
            case .scanningResponse, .releasingEvents:
                // The upstream has answered whole and its connection is gone: the rest goes nowhere.
                state = .exchanging(exchange)
                return []
            case .scanningRequest, .awaitingOperator:
                state = .exchanging(exchange)
                return protocolViolation()
            }
        }
    }

    mutating func requestEnd() -> [Action] {
        let deadline = deadlines.requestEnded()
        let actions = handleRequestEnd()
        return deadline == .none ? actions : [.deadline(deadline)] + actions
    }

    private mutating func handleRequestEnd() -> [Action] {
        switch state {
        case .discarding(let closeAfter):
            if closeAfter {
                state = .closed
                return [.closeAfterWrites]
            }
            state = .idle
            return [.deadline(deadlines.exchangeFinished())]
        case .openingTunnel(var setup):
            setup.requestEnded = true
            state = .openingTunnel(setup)
            return establishTunnelIfReady()
        case .closed:
            return []
        case .idle, .modifying:
            return protocolViolation()
        case .exchanging(var exchange):
            if exchange.requestEnded { return protocolViolation() }
            exchange.requestEnded = true
            state = .modifying
            var actions: [Action] = []
            switch exchange.phase {
            case .receivingBodyForScan(let held):
                exchange.phase = .scanningRequest
                actions = [
                    .pauseReads,
                    .scanRequest(
                        exchange.id,
                        RequestScan(head: exchange.upstreamHead, body: held, dlp: exchange.dlp, context: exchange.context)
                    ),
                ]
            case .connecting(var pending):
                exchange.phase = .scanningRequest
                pending.append(.end(nil))
                exchange.phase = .connecting(pending: pending)
            case .relaying(let connection, _, let response):
                actions = endUpstreamRequest(&exchange, connection: connection, awaitingHead: response.isAwaitingHead)
            case .scanningResponse, .releasingEvents:
                break
            case .scanningRequest, .awaitingOperator:
                state = .exchanging(exchange)
                return protocolViolation()
            }
            state = .exchanging(exchange)
            return actions
        }
    }

    /// The request's end goes upstream; from now on the upstream has its response timeout.
    func endUpstreamRequest(_ exchange: inout Exchange, connection: Connection, awaitingHead: Bool) -> [Action] {
        var actions: [Action] = [.writeUpstreamEnd(connection, trailers: exchange.requestTrailers)]
        if awaitingHead { actions.append(.armResponseTimer(exchange.id)) }
        if let body = exchange.requestLog {
            actions.append(
                .emit(.request(context: exchange.context, headers: exchange.upstreamHead.headers, body: body), minimum: .full)
            )
        }
        return actions
    }

    mutating func malformedRequest() -> [Action] {
        guard case .idle = state else { return [.closeNow] }
        state = .closed
        return [
            .writeRefusal(
                RefusalResponse(
                    refusal: Refusal(.badRequest, "egress: malformed HTTP request"),
                    version: .http1_1,
                    event: nil,
                    closeConnection: true
                )
            ),
            .closeAfterWrites,
        ]
    }

    // MARK: The verdict on a held request

    mutating func outboundDecided(_ id: ExchangeID, _ verdict: OutboundVerdict) -> [Action] {
        guard case .exchanging(var exchange) = state, exchange.id == id else {
            // The request was parked for the operator after its exchange ended: withdraw it.
            if case .awaitOperator(let supervisionID) = verdict { return [.abandonSupervision(supervisionID)] }
            return []
        }
        switch (exchange.phase, verdict) {
        case (.scanningRequest, .awaitOperator(let supervisionID)):
            exchange.phase = .awaitingOperator(supervisionID: supervisionID)
            state = .exchanging(exchange)
            return []
        case (.scanningRequest, .forward(let head, let body)), (.awaitingOperator, .forward(let head, let body)):
            exchange.upstreamHead = head
            if body.readableBytes > 0, exchange.framing == .noBody {
                return fail(exchange, Refusal(.badRequest, "egress: request body without framing"))
            }
            let parts: [HTTPServerRequestPart] = body.readableBytes > 0 ? [.body(body), .end(nil)] : [.end(nil)]
            // Held whole, so it can be sent again if a reused upstream connection fails at once.
            if UpstreamRequestBuilder.mayRetry(head) { exchange.replay = parts }
            exchange.phase = .connecting(pending: parts)
            state = .exchanging(exchange)
            return [.pauseReads, .acquireUpstream(id, exchange.target, fresh: exchange.webSocket != nil, http1Only: exchange.webSocket != nil)]
        case (.scanningRequest, .refuse(let refusal, let eventContext)),
            (.awaitingOperator, .refuse(let refusal, let eventContext)):
            return fail(exchange, refusal, eventContext: eventContext)
        case (.awaitingOperator, .awaitOperator), (.receivingBodyForScan, _), (.connecting, _), (.relaying, _),
            (.scanningResponse, _), (.releasingEvents, _):
            // A verdict only ever answers a scan in flight; anything else is a bug in the caller:
            // fail closed rather than forward.
            return fail(exchange, ScanFailure.workerError.refusal)
        }
    }

    // MARK: The upstream connection

    mutating func upstreamAcquired(_ id: ExchangeID, _ result: Acquisition) -> [Action] {
        guard case .exchanging(var exchange) = state, exchange.id == id, case .connecting(let pending) = exchange.phase
        else {
            // The exchange ended while we were connecting; a fresh connection is still clean.
            if case .acquired(let acquired) = result { return [.releaseUpstream(acquired.connection, reusable: true)] }
            return []
        }
        let acquired: AcquiredUpstream
        switch result {
        case .failed(let refusal):
            return fail(exchange, refusal)
        case .acquired(let success):
            acquired = success
        }
        let connection = acquired.connection
        exchange.phase = .relaying(connection, wasReused: acquired.wasReused, .awaitingHead)
        var actions: [Action] = [.writeUpstreamHead(connection, exchange.upstreamHead)]
        for part in pending {
            switch part {
            case .body(let buffer):
                exchange.requestLog?.append(buffer.readableBytesView)
                actions.append(.writeUpstreamBody(connection, buffer))
            case .end:
                actions += endUpstreamRequest(&exchange, connection: connection, awaitingHead: true)
            case .head:
                // Only body parts and the end wait here; a head was never judged.
                state = .exchanging(exchange)
                return protocolViolation()
            }
        }
        state = .exchanging(exchange)
        return actions + [.flushUpstream(connection), .resumeReadsIfWritable(connection)]
    }

    // MARK: CONNECT

    mutating func certificateIssued(_ success: Bool) -> [Action] {
        guard case .openingTunnel(var setup) = state else { return [] }
        guard success else {
            state = .closed
            return [
                .writeRefusal(
                    RefusalResponse(
                        refusal: Refusal(.internalServerError, "egress: cannot issue a certificate for \(setup.target.host)"),
                        version: setup.version,
                        event: nil,
                        closeConnection: true
                    )
                ),
                .closeAfterWrites,
            ]
        }
        setup.certificateReady = true
        state = .openingTunnel(setup)
        return establishTunnelIfReady()
    }

    /// The 200 goes out once the CONNECT request has ended and the host's certificate is ready;
    /// from then on the tunnel's own handler serves this connection.
    mutating func establishTunnelIfReady() -> [Action] {
        guard case .openingTunnel(let setup) = state, setup.requestEnded, setup.certificateReady else { return [] }
        state = .closed
        return [.establishTunnel(setup.target, setup.version)]
    }
}

extension ExchangeStateMachine.ResponsePhase {
    var isAwaitingHead: Bool {
        if case .awaitingHead = self { return true }
        return false
    }

    /// The agent has the response's head: the exchange can no longer be answered with a refusal.
    var headIsWithTheAgent: Bool {
        switch self {
        case .streaming, .streamingEvents: true
        case .awaitingHead, .holding, .switching: false
        }
    }
}
