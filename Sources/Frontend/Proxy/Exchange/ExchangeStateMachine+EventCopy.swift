import NIOCore
import NIOHTTP1

/// Inbound `warn` on `text/event-stream` and NDJSON responses: the stream passes untouched and at
/// once, and the complete events of each read are scanned as they pass, so an `egress_warn` comes
/// while the stream still runs and names the events that matched (README, "Streaming"). Warn never
/// holds anything back: these scans are copies, started without waiting for one another, and one
/// that cannot be made is reported, never blocking. Unlike `block`, no context from earlier
/// events is scanned again: a match is reported once, with the events it is in.
extension ExchangeStateMachine {
    struct EventCopy: Equatable {
        var splitter: EventStreamSplitter
    }

    /// Forwards nothing itself (the body is written by the caller): feeds the splitter, keeps the
    /// bytes of the event under way counted against the held budget, and scans what ended.
    mutating func eventCopyBody(
        _ buffer: ByteBuffer,
        _ copy: EventCopy,
        head: HTTPResponseHead,
        exchange: inout Exchange
    ) -> (InboundCopy, [Action]) {
        var copy = copy
        let heldBefore = copy.splitter.pendingBytes
        let first = copy.splitter.eventsEnded + 1
        let ended: ByteBuffer?
        do {
            ended = try copy.splitter.append(buffer)
        } catch {
            return dropEventCopy(heldBefore, reason: "an event larger than \(error.limit) bytes", exchange: &exchange)
        }
        var actions: [Action] = []
        let heldAfter = copy.splitter.pendingBytes
        if heldAfter > heldBefore {
            guard reserve(heldAfter - heldBefore, for: &exchange) else {
                return dropEventCopy(heldBefore, reason: HeldBytesBudget.busyReason, exchange: &exchange)
            }
        } else if heldAfter < heldBefore {
            actions.append(.releaseHeld(heldBefore - heldAfter))
            exchange.heldBytes -= heldBefore - heldAfter
        }
        if let ended { actions.append(scanEventCopy(ended, from: first, copy, head: head, exchange: exchange)) }
        return (.events(copy), actions)
    }

    /// The response ended: an event without its terminator is still scanned, and its bytes go back.
    mutating func eventCopyEnded(_ copy: EventCopy, head: HTTPResponseHead, exchange: inout Exchange) -> [Action] {
        var copy = copy
        let held = copy.splitter.pendingBytes
        var actions: [Action] = []
        if held > 0 {
            actions.append(.releaseHeld(held))
            exchange.heldBytes -= held
        }
        let first = copy.splitter.eventsEnded + 1
        if let rest = copy.splitter.finish() {
            actions.append(scanEventCopy(rest, from: first, copy, head: head, exchange: exchange))
        }
        return actions
    }

    private func scanEventCopy(
        _ ended: ByteBuffer,
        from first: Int,
        _ copy: EventCopy,
        head: HTTPResponseHead,
        exchange: Exchange
    ) -> Action {
        .scanResponseCopy(
            ResponseScan(
                head: head,
                body: ended,
                dlp: exchange.dlp,
                context: exchange.context,
                events: first...max(first, copy.splitter.eventsEnded)
            )
        )
    }

    private mutating func dropEventCopy(_ held: Int, reason: String, exchange: inout Exchange) -> (InboundCopy, [Action]) {
        exchange.heldBytes -= held
        return (.dropped(reason: reason), held > 0 ? [.releaseHeld(held)] : [])
    }
}
