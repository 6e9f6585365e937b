import EgressRoutes
import NIOCore
import NIOHTTP1

/// Inbound `block` on `text/event-stream` and NDJSON responses: the head goes to the agent at once
/// and events follow as soon as a scan has passed them, so a streamed LLM answer keeps its timing
/// (README, "Streaming"). The complete events that have arrived are scanned together, with the
/// last bytes released before them, one scan at a time and in order; events that arrive meanwhile
/// wait for the next. A scan that matches releases nothing more: the stream ends with an error
/// event of the proxy's own.
extension ExchangeStateMachine {
    struct EventRelay: Equatable {
        var splitter: EventStreamSplitter
        /// Complete events not yet released, in arrival order (one buffer per read that ended any).
        var waiting = CircularBuffer<ByteBuffer>()
        /// How many of the first `waiting` buffers the scan in flight covers (0: none in flight).
        var underScan = 0
        /// The last bytes released (up to ``eventContextBytes``, across events), scanned again with
        /// what follows: a phrase cut by event boundaries is seen whole when its end arrives.
        var context = ByteBuffer()
        /// The upstream's response has ended: once nothing waits, so does the agent's.
        var upstreamEnded = false
        /// The agent takes more writes: the upstream is read only while it does.
        var agentWritable = true

        var scanning: Bool { underScan > 0 }
        var waitingBytes: Int { waiting.reduce(0) { $0 + $1.readableBytes } }
    }

    /// How much of what was released is scanned again with what follows: 4 KiB, or a quarter of
    /// `--max-scan-bytes` if that is smaller.
    var eventContextBytes: Int { min(4096, configuration.maxScanBytes / 4) }

    mutating func startEventStream(
        _ upstreamHead: HTTPResponseHead,
        kind: EventStreamSplitter.Kind,
        exchange: inout Exchange,
        connection: Connection,
        reused: Bool
    ) -> [Action] {
        // Events may be held back or the stream cut short: the agent's framing is the proxy's own
        // (chunked, or to the close for an HTTP/1.0 agent).
        var streamed = upstreamHead
        streamed.headers.remove(name: "content-length")
        let head = agentHead(for: streamed, exchange: &exchange)
        // An event and the context scanned with it fit one scan.
        let maxEvent = configuration.maxScanBytes - eventContextBytes
        let relay = EventRelay(splitter: EventStreamSplitter(kind: kind, maxEventBytes: maxEvent))
        exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(upstreamHead, relay))
        state = .exchanging(exchange)
        return [head]
    }

    mutating func eventStreamBody(
        _ buffer: ByteBuffer,
        head: HTTPResponseHead,
        relay: EventRelay,
        exchange: Exchange,
        connection: Connection,
        reused: Bool,
        agentWritable: Bool
    ) -> [Action] {
        var exchange = exchange
        var relay = relay
        relay.agentWritable = agentWritable
        // Every byte is held until it is written to the agent: the bytes of a partial event too.
        guard reserve(buffer.readableBytes, for: &exchange) else {
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, HeldBytesBudget.busy)
        }
        do {
            if let events = try relay.splitter.append(buffer) { relay.waiting.append(events) }
        } catch {
            let reason = "egress DLP: an event of the response is larger than \(error.limit) bytes"
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, Refusal(.forbidden, reason))
        }
        guard relay.waitingBytes <= configuration.maxScanBytes else {
            let reason = "egress DLP: more than \(configuration.maxScanBytes) bytes of events wait for their scans"
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, Refusal(.forbidden, reason))
        }
        var actions: [Action] = []
        switch nextEventScan(&relay, head: head, exchange: exchange) {
        case .tooLarge(let refusal): return cutEventStream(exchange, head: head, kind: relay.splitter.kind, refusal)
        case .start(let scan): actions.append(scan)
        case .nothing: break
        }
        // While events wait, or the agent reads nothing, the upstream is not read: what is buffered
        // stays one read's worth.
        if relay.scanning || !relay.agentWritable { actions.append(.setUpstreamAutoRead(connection, false)) }
        exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        state = .exchanging(exchange)
        return actions
    }

    mutating func eventStreamEnded(
        head: HTTPResponseHead,
        relay: EventRelay,
        exchange: Exchange,
        connection: Connection,
        reused: Bool
    ) -> [Action] {
        var relay = relay
        var exchange = exchange
        // An event the upstream did not end with a blank line is still an event.
        if let rest = relay.splitter.finish() { relay.waiting.append(rest) }
        relay.upstreamEnded = true
        let next = nextEventScan(&relay, head: head, exchange: exchange)
        exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        var actions: [Action] = []
        switch next {
        case .tooLarge(let refusal): return cutEventStream(exchange, head: head, kind: relay.splitter.kind, refusal)
        case .start(let scan): actions.append(scan)
        case .nothing: break
        }
        guard relay.waiting.isEmpty else {
            // The response is read whole: the connection goes back now (a server that closes right
            // after its last event must not cut the stream), and what waits follows as it passes.
            exchange.phase = .releasingEvents(head, relay)
            state = .exchanging(exchange)
            return actions + [.releaseUpstream(connection, reusable: exchange.upstreamReusable && exchange.requestEnded)]
        }
        return finish(exchange)
    }

    /// `connection` is the upstream still being read, or `nil` once its response has ended.
    mutating func eventScanned(
        _ verdict: InboundVerdict,
        head: HTTPResponseHead,
        relay: EventRelay,
        exchange: Exchange,
        connection: (Connection, reused: Bool)?
    ) -> [Action] {
        guard relay.scanning else { return [] }
        var relay = relay
        var exchange = exchange
        switch verdict {
        case .refuse(let refusal):
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, refusal)
        case .deliver:
            break
        }
        var released = ByteBuffer()
        for _ in 0..<relay.underScan {
            var events = relay.waiting.removeFirst()
            released.writeBuffer(&events)
        }
        relay.underScan = 0
        var context = relay.context
        var copy = released
        context.writeBuffer(&copy)
        // A copy, not a slice: a slice would keep a large event's whole storage alive.
        relay.context = ByteBuffer(bytes: context.readableBytesView.suffix(eventContextBytes))
        // The bytes stay counted until the agent's connection has taken them.
        exchange.heldBytes -= released.readableBytes
        var actions: [Action] = [.writeEvents(released, releasingHeld: released.readableBytes)]
        let next = nextEventScan(&relay, head: head, exchange: exchange)
        if let (connection, reused) = connection {
            exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        } else {
            exchange.phase = .releasingEvents(head, relay)
        }
        switch next {
        case .tooLarge(let refusal): return actions + cutEventStream(exchange, head: head, kind: relay.splitter.kind, refusal)
        case .start(let scan): actions.append(scan)
        case .nothing: break
        }
        if relay.upstreamEnded && relay.waiting.isEmpty { return actions + finish(exchange) }
        state = .exchanging(exchange)
        if !relay.scanning, relay.agentWritable, let (connection, _) = connection {
            actions.append(.setUpstreamAutoRead(connection, true))
        }
        return actions
    }

    /// The agent can (or cannot) take more: the upstream is read again only when nothing waits.
    mutating func eventStreamWritabilityChanged(_ isWritable: Bool) -> [Action]? {
        guard case .exchanging(var exchange) = state,
            case .relaying(let connection, let reused, .streamingEvents(let head, var relay)) = exchange.phase
        else { return nil }
        relay.agentWritable = isWritable
        exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        state = .exchanging(exchange)
        return [.setUpstreamAutoRead(connection, isWritable && !relay.scanning)]
    }

    private enum NextEventScan {
        case nothing
        case start(Action)
        /// What waits first cannot be scanned in one piece with its context: the stream ends.
        case tooLarge(Refusal)
    }

    /// Starts the scan of what waits — as many buffers as fit one scan with the context — unless
    /// one is in flight.
    private func nextEventScan(_ relay: inout EventRelay, head: HTTPResponseHead, exchange: Exchange) -> NextEventScan {
        guard !relay.scanning, !relay.waiting.isEmpty else { return .nothing }
        var body = relay.context
        var count = 0
        for events in relay.waiting {
            guard body.readableBytes + events.readableBytes <= configuration.maxScanBytes else { break }
            var copy = events
            body.writeBuffer(&copy)
            count += 1
        }
        guard count > 0 else {
            let reason = "egress DLP: an event of the response is larger than \(configuration.maxScanBytes - eventContextBytes) bytes"
            return .tooLarge(Refusal(.forbidden, reason))
        }
        relay.underScan = count
        return .start(.scanResponse(exchange.id, ResponseScan(head: head, body: body, dlp: exchange.dlp, context: exchange.context)))
    }

    /// Ends a stream the agent already has the head of: an error event in the stream's own syntax
    /// in place of what was refused, then the end; the rest of the upstream's response is dropped.
    mutating func cutEventStream(
        _ exchange: Exchange,
        head: HTTPResponseHead,
        kind: EventStreamSplitter.Kind,
        _ refusal: Refusal
    ) -> [Action] {
        var exchange = exchange
        exchange.upstreamReusable = false
        var actions: [Action] = [.cancelResponseTimer, .settle(refusal.outcome.rawValue)]
        if case .relaying(let connection, _, _) = exchange.phase {
            actions.append(.releaseUpstream(connection, reusable: false))
        }
        actions.append(
            .emit(
                .block(reason: refusal.reason, context: exchange.context, responseStatus: Int(head.status.code)),
                minimum: .blocks
            )
        )
        actions += leaveExchange(exchange)
        actions.append(.resumeReads)
        actions.append(.writeResponseBody(Self.errorEvent(refusal.reason, kind: kind)))
        actions.append(.writeResponseEnd(releasingHeld: exchange.heldBytes))
        if exchange.requestEnded && exchange.closeClientAfter { actions.append(.closeAfterWrites) }
        return actions
    }

    /// ``BlockResponse``'s body as an SSE `error` event, or as an NDJSON line.
    static func errorEvent(_ reason: String, kind: EventStreamSplitter.Kind) -> ByteBuffer {
        // BlockResponse's body is one JSON line ending in LF: an NDJSON line as it is.
        let line = BlockResponse.body(reason: reason)
        switch kind {
        case .serverSentEvents: return ByteBuffer(string: "event: error\ndata: \(line)\n")
        case .ndjson: return ByteBuffer(string: line)
        }
    }
}
