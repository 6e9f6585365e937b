import NIOCore
import NIOHTTP1

/// Inbound `warn` on `text/event-stream` and NDJSON responses: the stream passes untouched and at
/// once, and its complete events are scanned as they pass, so an `egress_warn` comes while the
/// stream still runs and names the events that matched (README, "Streaming"). Warn never holds
/// anything back: these scans are copies. One is in flight per stream at a time; events that end
/// meanwhile wait (counted against the held budget, at most `--max-scan-bytes`) and go in the next,
/// so a stream of tiny reads cannot flood the scanner queue. Unlike `block`, no context from earlier
/// events is scanned again: a match is reported once, with the events it is in. A copy that cannot
/// be kept is reported at once, and the stream goes on unscanned.
extension ExchangeStateMachine {
    struct EventCopy: Equatable {
        var splitter: EventStreamSplitter
        /// Complete events not yet scanned, and the number of the first of them.
        var waiting = ByteBuffer()
        var firstWaiting = 1
        /// A scan of this stream's events is in flight.
        var scanning = false
    }

    /// Forwards nothing itself (the body is written by the caller): feeds the splitter, keeps the
    /// bytes of the event under way and of the events waiting counted against the held budget,
    /// and scans what ended unless a scan is in flight.
    mutating func eventCopyBody(
        _ buffer: ByteBuffer,
        _ copy: EventCopy,
        head: HTTPResponseHead,
        exchange: inout Exchange
    ) -> (InboundCopy, [Action]) {
        // Counted for this copy: the event under way and the events waiting.
        var copy = copy
        let pendingBefore = copy.splitter.pendingBytes
        let ended: ByteBuffer?
        var tooLarge: Int?
        do {
            ended = try copy.splitter.append(buffer)
        } catch {
            // The events this read completed are still scanned; the rest of the stream is not,
            // and the oversized event under way is not counted (the splitter goes with the copy).
            ended = error.ended
            tooLarge = error.limit
        }
        let pendingAfter = tooLarge == nil ? copy.splitter.pendingBytes : 0
        let endedBytes = ended?.readableBytes ?? 0
        var actions: [Action] = []
        let grown = pendingAfter - pendingBefore + endedBytes
        if grown > 0 {
            guard reserve(grown, for: &exchange) else {
                let counted = pendingBefore + copy.waiting.readableBytes
                return dropEventCopy(counted, reason: HeldBytesBudget.busyReason, head: head, exchange: &exchange)
            }
        } else if grown < 0 {
            actions.append(.releaseHeld(-grown))
            exchange.heldBytes += grown
        }
        if var events = ended {
            guard copy.waiting.readableBytes + events.readableBytes <= configuration.maxScanBytes else {
                let counted = pendingAfter + copy.waiting.readableBytes + events.readableBytes
                let reason = "more than \(configuration.maxScanBytes) bytes of events wait for their scans"
                return dropEventCopy(counted, reason: reason, head: head, exchange: &exchange, after: actions)
            }
            copy.waiting.writeBuffer(&events)
        }
        if let limit = tooLarge {
            // What waits is scanned now, in flight or not: nothing after it will be.
            actions += startEventCopyScan(&copy, head: head, exchange: &exchange)
            return dropEventCopy(0, reason: "an event larger than \(limit) bytes", head: head, exchange: &exchange, after: actions)
        }
        if !copy.scanning { actions += startEventCopyScan(&copy, head: head, exchange: &exchange) }
        return (.events(copy), actions)
    }

    /// The scan in flight has answered (its warning is the performer's): the next may start.
    mutating func eventCopyScanned(_ id: ExchangeID) -> [Action] {
        guard case .exchanging(var exchange) = state, exchange.id == id,
            case .relaying(let connection, let reused, .streaming(let head, .events(var copy))) = exchange.phase
        else { return [] }
        copy.scanning = false
        let actions = startEventCopyScan(&copy, head: head, exchange: &exchange)
        exchange.phase = .relaying(connection, wasReused: reused, .streaming(head, .events(copy)))
        state = .exchanging(exchange)
        return actions
    }

    /// The response ended: what waits is scanned now, whether or not a scan is in flight (the
    /// exchange is over), and an event without its terminator is still an event, scanned after it.
    mutating func eventCopyEnded(_ copy: EventCopy, head: HTTPResponseHead, exchange: inout Exchange) -> [Action] {
        var copy = copy
        var actions = startEventCopyScan(&copy, head: head, exchange: &exchange)
        if var rest = copy.splitter.finish() {
            // Counted already as the event under way.
            copy.waiting.writeBuffer(&rest)
            actions += startEventCopyScan(&copy, head: head, exchange: &exchange)
        }
        return actions
    }

    /// Scans what waits, if anything: its bytes leave the exchange's count (the scan counts its own).
    private func startEventCopyScan(_ copy: inout EventCopy, head: HTTPResponseHead, exchange: inout Exchange) -> [Action] {
        guard copy.waiting.readableBytes > 0 else { return [] }
        let body = copy.waiting
        let first = copy.firstWaiting
        let last = max(first, copy.splitter.eventsEnded)
        copy.waiting = ByteBuffer()
        copy.firstWaiting = last + 1
        copy.scanning = true
        exchange.heldBytes -= body.readableBytes
        return [
            .releaseHeld(body.readableBytes),
            .scanEventCopy(
                exchange.id,
                ResponseScan(head: head, body: body, dlp: exchange.dlp, context: exchange.context, events: first...last)
            ),
        ]
    }

    /// Stops scanning the stream: what it counted goes back, and the operator is told now (the
    /// stream may never end).
    private func dropEventCopy(
        _ counted: Int,
        reason: String,
        head: HTTPResponseHead,
        exchange: inout Exchange,
        after earlier: [Action] = []
    ) -> (InboundCopy, [Action]) {
        exchange.heldBytes -= counted
        var actions = earlier
        if counted > 0 { actions.append(.releaseHeld(counted)) }
        actions.append(notScanned(reason, head: head, exchange: exchange))
        return (.none, actions)
    }
}
