import EgressRoutes
import NIOCore
import NIOHTTP1

/// Upstream → agent: the response head framed for the agent, held whole for inbound `block` or
/// streamed (with a bounded copy for `warn`), the retry of a reused connection, the response timeout.
extension ExchangeStateMachine {
    mutating func responseHead(_ upstreamHead: HTTPResponseHead) -> [Action] {
        guard case .exchanging(var exchange) = state, case .relaying(let connection, let reused, let response) = exchange.phase
        else { return [] }
        guard response.isAwaitingHead else {
            // One head per response: a second one is an upstream that lies about its framing.
            return upstreamBroke(exchange)
        }
        // An interim answer (100 Continue, 103 Early Hints) is not the response. NIO's HTTP/1.1
        // decoder drops them itself; its HTTP/2 codec hands them on.
        if upstreamHead.status.code / 100 == 1, upstreamHead.status != .switchingProtocols { return [] }
        var actions: [Action] = [.cancelResponseTimer]
        var upstreamHead = upstreamHead
        if exchange.clientVersion.major == 2, let status = TrailerFields.liftTrailersOnlyStatus(from: &upstreamHead.headers) {
            exchange.responseTrailers = status
        }
        // The upstream answered: the request is no longer replayed, nor its held body kept.
        exchange.replay = nil
        if exchange.heldBytes > 0 {
            actions.append(.releaseHeld(exchange.heldBytes))
            exchange.heldBytes = 0
        }
        // An HTTP/2 stream ends with its response whatever `isKeepAlive` says of version 2.0.
        if upstreamHead.version.major == 1, !upstreamHead.isKeepAlive { exchange.upstreamReusable = false }
        if upstreamHead.status == .switchingProtocols {
            // Past a 101 the connection speaks another protocol: never pooled again.
            exchange.upstreamReusable = false
            guard let handshake = exchange.webSocket else { return actions + upstreamBroke(exchange) }
            switch handshake.agentHead(for: upstreamHead) {
            case .success(let agentHead):
                exchange.phase = .relaying(connection, wasReused: reused, .switching(agentHead))
                state = .exchanging(exchange)
                return actions + responseLogged(exchange, head: upstreamHead)
            case .failure(let failure):
                return actions + fail(exchange, Refusal(.badGateway, failure.reason), responseStatus: 101)
            }
        }
        var copy = InboundCopy.none
        if exchange.dlp.scansResponse(upstreamHead, requestMethod: exchange.method) {
            if exchange.dlp.inboundAction == .block {
                if let kind = EventStreamSplitter.kind(of: upstreamHead) {
                    return actions + startEventStream(upstreamHead, kind: kind, exchange: &exchange, connection: connection, reused: reused)
                }
                exchange.phase = .relaying(connection, wasReused: reused, .holding(upstreamHead, ByteBuffer()))
                state = .exchanging(exchange)
                return actions
            }
            if let kind = EventStreamSplitter.kind(of: upstreamHead) {
                copy = .events(EventCopy(splitter: EventStreamSplitter(kind: kind, maxEventBytes: configuration.maxScanBytes)))
            } else {
                copy = .keeping(ByteBuffer())
            }
        }
        actions.append(agentHead(for: upstreamHead, exchange: &exchange))
        exchange.phase = .relaying(connection, wasReused: reused, .streaming(upstreamHead, copy))
        state = .exchanging(exchange)
        return actions
    }

    /// The agent's response head, framed for the agent's connection.
    func agentHead(for upstreamHead: HTTPResponseHead, exchange: inout Exchange) -> Action {
        var (head, closeAfter) = ResponseFraming.clientHead(
            from: upstreamHead,
            requestMethod: exchange.method,
            clientVersion: exchange.clientVersion
        )
        if closeAfter { exchange.closeClientAfter = true }
        if exchange.closeClientAfter { head.headers.replaceOrAdd(name: "connection", value: "close") }
        return .writeResponseHead(head)
    }

    mutating func responseBody(_ buffer: ByteBuffer, agentWritable: Bool) -> [Action] {
        guard case .exchanging(var exchange) = state, case .relaying(let connection, let reused, var response) = exchange.phase
        else { return [] }
        state = .modifying
        // Not kept while it changes, so the held buffers below are uniquely referenced and grow in place.
        exchange.phase = .relaying(connection, wasReused: reused, .awaitingHead)
        exchange.responseLog?.append(buffer.readableBytesView)
        switch response {
        case .awaitingHead, .switching:
            return upstreamBroke(exchange)
        case .streamingEvents(let head, let relay):
            response = .awaitingHead
            return eventStreamBody(
                buffer,
                head: head,
                relay: relay,
                exchange: exchange,
                connection: connection,
                reused: reused,
                agentWritable: agentWritable
            )
        case .holding(let head, var held):
            response = .awaitingHead
            guard reserve(buffer.readableBytes, for: &exchange) else {
                exchange.upstreamReusable = false
                return fail(exchange, HeldBytesBudget.busy, responseStatus: Int(head.status.code))
            }
            guard held.append(buffer, within: configuration.maxScanBytes) else {
                exchange.upstreamReusable = false
                return fail(
                    exchange,
                    BodyDecoding.Failure.tooLarge(limit: configuration.maxScanBytes).refusal,
                    responseStatus: Int(head.status.code)
                )
            }
            exchange.phase = .relaying(connection, wasReused: reused, .holding(head, held))
            state = .exchanging(exchange)
            return []
        case .streaming(let head, var copy):
            response = .awaitingHead
            var actions: [Action] = []
            if case .keeping(var kept) = copy {
                copy = .none
                // A copy that cannot grow is dropped, and so are the bytes it held.
                if !reserve(buffer.readableBytes, for: &exchange) {
                    actions.append(.releaseHeld(kept.readableBytes))
                    exchange.heldBytes -= kept.readableBytes
                    copy = .dropped(reason: HeldBytesBudget.busyReason)
                } else if !kept.append(buffer, within: configuration.maxScanBytes) {
                    actions.append(.releaseHeld(kept.readableBytes + buffer.readableBytes))
                    exchange.heldBytes -= kept.readableBytes + buffer.readableBytes
                    copy = .dropped(reason: "larger than \(configuration.maxScanBytes) bytes")
                } else {
                    copy = .keeping(kept)
                }
            } else if case .events(let events) = copy {
                copy = .none
                let (next, scanActions) = eventCopyBody(buffer, events, head: head, exchange: &exchange)
                copy = next
                actions += scanActions
            }
            exchange.phase = .relaying(connection, wasReused: reused, .streaming(head, copy))
            state = .exchanging(exchange)
            actions.append(.writeResponseBody(buffer))
            // A slow agent stops the upstream from being read, so the proxy never buffers without bound.
            if !agentWritable { actions.append(.setUpstreamAutoRead(connection, false)) }
            return actions
        }
    }

    mutating func responseEnd() -> [Action] {
        guard case .exchanging(var exchange) = state, case .relaying(let connection, let reused, let response) = exchange.phase
        else { return [] }
        var actions: [Action] = []
        switch response {
        case .awaitingHead:
            return upstreamBroke(exchange)
        case .streamingEvents(let head, let relay):
            actions += responseLogged(exchange, head: head)
            return actions + eventStreamEnded(head: head, relay: relay, exchange: exchange, connection: connection, reused: reused)
        case .switching(let agentHead):
            // The relay takes both connections; this machine serves no further request.
            state = .closed
            actions.append(.settle("forwarded"))
            if exchange.heldBytes > 0 { actions.append(.releaseHeld(exchange.heldBytes)) }
            let upgrade = WebSocketUpgrade(
                agentHead: agentHead,
                context: exchange.context,
                dlp: exchange.dlp,
                capturesMessages: exchange.requestLog != nil
            )
            return actions + [.upgradeToWebSocket(connection, upgrade)]
        case .holding(let head, let held):
            actions += responseLogged(exchange, head: head)
            // The response is fully read: the connection can serve others while the scan runs.
            actions.append(.releaseUpstream(connection, reusable: exchange.upstreamReusable && exchange.requestEnded))
            exchange.phase = .scanningResponse(head, held)
            state = .exchanging(exchange)
            actions.append(
                .scanResponse(
                    exchange.id,
                    ResponseScan(
                        head: head,
                        body: held,
                        dlp: exchange.dlp,
                        context: exchange.context,
                        trailers: exchange.responseTrailers
                    )
                )
            )
            return actions
        case .streaming(let head, let copy):
            actions += responseLogged(exchange, head: head)
            var exchange = exchange
            switch copy {
            case .none:
                break
            case .keeping(let body):
                actions.append(
                    .scanResponseCopy(
                        ResponseScan(
                            head: head,
                            body: body,
                            dlp: exchange.dlp,
                            context: exchange.context,
                            trailers: exchange.responseTrailers
                        )
                    )
                )
            case .events(let events):
                actions += eventCopyEnded(events, head: head, exchange: &exchange)
            case .dropped(let reason):
                actions.append(notScanned(reason, head: head, exchange: exchange))
            }
            return actions + finish(exchange)
        }
    }

    /// Inbound `warn` could not scan (a copy of) this response: the operator is told why.
    func notScanned(_ reason: String, head: HTTPResponseHead, exchange: Exchange) -> Action {
        .emit(
            .warn(reason: "egress DLP: response not scanned: \(reason)", context: exchange.context, responseStatus: Int(head.status.code)),
            minimum: .blocks
        )
    }

    func responseLogged(_ exchange: Exchange, head: HTTPResponseHead) -> [Action] {
        guard let body = exchange.responseLog else { return [] }
        return [
            .emit(
                .response(host: exchange.context.host, status: Int(head.status.code), headers: head.headers, body: body),
                minimum: .full
            )
        ]
    }

    mutating func responseScanned(_ id: ExchangeID, _ verdict: InboundVerdict) -> [Action] {
        guard case .exchanging(var exchange) = state, exchange.id == id else { return [] }
        if case .relaying(let connection, let reused, .streamingEvents(let head, let relay)) = exchange.phase {
            return eventScanned(verdict, head: head, relay: relay, exchange: exchange, connection: (connection, reused))
        }
        if case .releasingEvents(let head, let relay) = exchange.phase {
            return eventScanned(verdict, head: head, relay: relay, exchange: exchange, connection: nil)
        }
        guard case .scanningResponse(let head, let body) = exchange.phase else { return [] }
        switch verdict {
        case .refuse(let refusal):
            return fail(exchange, refusal, responseStatus: Int(head.status.code))
        case .deliver:
            var complete = head
            // The whole body is here: send it with its length, whatever framing the upstream used;
            // unless trailers follow, which HTTP/1.1 carries only in a chunked body.
            complete.headers.remove(name: "transfer-encoding")
            if exchange.responseTrailers == nil {
                complete.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
            } else {
                complete.headers.remove(name: "content-length")
            }
            let headAction = agentHead(for: complete, exchange: &exchange)
            // No empty DATA frame on HTTP/2: nothing between the head and the trailers.
            let bodyAction: [Action] = body.readableBytes > 0 ? [.writeResponseBody(body)] : []
            return [headAction] + bodyAction + finish(exchange)
        }
    }

    mutating func responseTimedOut(_ id: ExchangeID) -> [Action] {
        guard case .exchanging(let exchange) = state, exchange.id == id,
            case .relaying(_, _, .awaitingHead) = exchange.phase
        else { return [] }
        let failure = UpstreamFailure.responseTimeout(target: exchange.target.description)
        return fail(exchange, Refusal(.gatewayTimeout, failure.reason))
    }

    mutating func upstreamClosed(cleanly: Bool) -> [Action] {
        guard case .exchanging(var exchange) = state,
            case .relaying(let connection, let wasReused, let response) = exchange.phase
        else { return [] }
        if response.headIsWithTheAgent {
            // Part of the response is already with the agent: closing is the only honest signal.
            state = .closed
            return abandon(exchange, outcome: "failed") + [.closeNow]
        }
        if wasReused, cleanly, response.isAwaitingHead, exchange.requestEnded, let replay = exchange.replay {
            // A pooled connection the server closed while it was idle, before any response byte:
            // send the request once more on a fresh connection (docs/ARCHITECTURE.md, "Upstream reuse").
            exchange.replay = nil
            exchange.phase = .connecting(pending: replay)
            if exchange.requestLog != nil { exchange.requestLog = LoggedBody() }
            state = .exchanging(exchange)
            return [
                .cancelResponseTimer, .releaseUpstream(connection, reusable: false), .pauseReads,
                .acquireUpstream(exchange.id, exchange.target, fresh: true, http1Only: exchange.webSocket != nil),
            ]
        }
        let failure = UpstreamFailure.closedEarly(target: exchange.target.description)
        return fail(exchange, Refusal(.badGateway, failure.reason))
    }

    /// The upstream broke HTTP (a second head, a body before its head): never relay a guess.
    mutating func upstreamBroke(_ exchange: Exchange) -> [Action] {
        var exchange = exchange
        exchange.upstreamReusable = false
        if case .relaying(_, _, let response) = exchange.phase, response.headIsWithTheAgent {
            state = .closed
            return abandon(exchange, outcome: "failed") + [.closeNow]
        }
        let failure = UpstreamFailure.closedEarly(target: exchange.target.description)
        return fail(exchange, Refusal(.badGateway, failure.reason))
    }
}
