import EgressRoutes
import NIOCore
import NIOHTTP1

/// Inbound `block` on `text/event-stream` and NDJSON responses: the head goes to the agent at once
/// and each event follows as soon as its own scan has passed, so a streamed LLM answer keeps its
/// timing (README, "Streaming"). One event is scanned at a time, in order; an event that matches
/// is never delivered: the stream ends with an error event of the proxy's own.
extension ExchangeStateMachine {
    struct EventRelay: Equatable {
        var splitter: EventStreamSplitter
        /// Complete events not yet released; the first is under scan when `scanning`.
        var waiting = CircularBuffer<ByteBuffer>()
        var scanning = false
        /// The end of the last released event, scanned again with the next one, so that a phrase
        /// an event boundary cuts is seen whole in the event that completes it.
        var context = ByteBuffer()
        /// The upstream's response has ended: once nothing waits, so does the agent's.
        var upstreamEnded = false

        var waitingBytes: Int { waiting.reduce(0) { $0 + $1.readableBytes } }
    }

    /// How much of the last released event is scanned again with the next.
    static var eventContextBytes: Int { 4096 }

    mutating func startEventStream(
        _ upstreamHead: HTTPResponseHead,
        kind: EventStreamSplitter.Kind,
        exchange: inout Exchange,
        connection: Connection,
        reused: Bool
    ) -> [Action] {
        // Events may be held back or the stream cut short: the agent's framing is the proxy's own.
        var streamed = upstreamHead
        streamed.headers.remove(name: "content-length")
        let head = agentHead(for: streamed, exchange: &exchange)
        let relay = EventRelay(splitter: EventStreamSplitter(kind: kind, maxEventBytes: configuration.maxScanBytes))
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
        reused: Bool
    ) -> [Action] {
        var exchange = exchange
        var relay = relay
        // Every byte is held until its event is released: the bytes of a partial event too.
        guard reserve(buffer.readableBytes, for: &exchange) else {
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, HeldBytesBudget.busy)
        }
        do {
            relay.waiting.append(contentsOf: try relay.splitter.append(buffer))
        } catch {
            let reason = "egress DLP: an event of the response is larger than \(error.limit) bytes"
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, Refusal(.forbidden, reason))
        }
        guard relay.waitingBytes <= configuration.maxScanBytes else {
            let reason = "egress DLP: more than \(configuration.maxScanBytes) bytes of events wait for their scans"
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, Refusal(.forbidden, reason))
        }
        var actions = nextEventScan(&relay, head: head, exchange: exchange)
        // While events wait, the upstream is not read: what is buffered stays one read's worth.
        if relay.scanning { actions.append(.setUpstreamAutoRead(connection, false)) }
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
        var actions = nextEventScan(&relay, head: head, exchange: exchange)
        exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        guard relay.waiting.isEmpty else {
            // The response is read whole: the connection goes back now, and the events still waiting
            // follow as their scans pass.
            actions.append(.releaseUpstream(connection, reusable: exchange.upstreamReusable && exchange.requestEnded))
            exchange.phase = .releasingEvents(head, relay)
            state = .exchanging(exchange)
            return actions
        }
        return actions + finish(exchange)
    }

    /// `connection` is the upstream still being read, or `nil` once its response has ended.
    mutating func eventScanned(
        _ verdict: InboundVerdict,
        head: HTTPResponseHead,
        relay: EventRelay,
        exchange: Exchange,
        connection: (Connection, reused: Bool)?
    ) -> [Action] {
        guard relay.scanning, !relay.waiting.isEmpty else { return [] }
        var relay = relay
        var exchange = exchange
        switch verdict {
        case .refuse(let refusal):
            return cutEventStream(exchange, head: head, kind: relay.splitter.kind, refusal)
        case .deliver:
            break
        }
        let event = relay.waiting.removeFirst()
        relay.scanning = false
        relay.context = event.getSlice(
            at: event.readerIndex + max(0, event.readableBytes - Self.eventContextBytes),
            length: min(event.readableBytes, Self.eventContextBytes)
        ) ?? ByteBuffer()
        exchange.heldBytes -= event.readableBytes
        // A verdict arrives on its own, not within an upstream read: the event is flushed at once.
        var actions: [Action] = [.writeResponseBody(event), .flushResponse, .releaseHeld(event.readableBytes)]
        actions += nextEventScan(&relay, head: head, exchange: exchange)
        if let (connection, reused) = connection {
            exchange.phase = .relaying(connection, wasReused: reused, .streamingEvents(head, relay))
        } else {
            exchange.phase = .releasingEvents(head, relay)
        }
        if relay.upstreamEnded && relay.waiting.isEmpty { return actions + finish(exchange) }
        state = .exchanging(exchange)
        if !relay.scanning, let (connection, _) = connection { actions.append(.setUpstreamAutoRead(connection, true)) }
        return actions
    }

    /// Starts the scan of the first waiting event, with the end of the last one released before it.
    private func nextEventScan(_ relay: inout EventRelay, head: HTTPResponseHead, exchange: Exchange) -> [Action] {
        guard !relay.scanning, let event = relay.waiting.first else { return [] }
        relay.scanning = true
        var body = relay.context
        var copy = event
        body.writeBuffer(&copy)
        return [.scanResponse(exchange.id, ResponseScan(head: head, body: body, dlp: exchange.dlp, context: exchange.context))]
    }

    /// Ends a stream the agent already has the head of: an error event in the stream's own syntax
    /// in place of the refused event, then the end; the rest of the upstream's response is dropped.
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
