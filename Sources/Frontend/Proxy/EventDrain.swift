/// Handles events one at a time and in order, even when handling one raises others: a write can
/// deliver the next pipelined request, or fail and close a channel, from inside the handling of an
/// event. Those wait here and are handled right after, so a state machine never sees an event in
/// the middle of another, and thousands of them are served in a loop rather than by recursion
/// (docs/ARCHITECTURE.md, "Pipelining").
final class EventDrain<Event> {
    private var queued: [Event] = []
    private var next = 0
    private var draining = false

    /// Handles `event` with `handle` now, or after the events already waiting when a drain is under
    /// way. `handle` returns `false` to stop: what still waits is dropped.
    func submit(_ event: Event, to handle: (Event) -> Bool) {
        queued.append(event)
        guard !draining else { return }
        draining = true
        defer {
            draining = false
            queued.removeAll(keepingCapacity: true)
            next = 0
        }
        while next < queued.count {
            let event = queued[next]
            next += 1
            guard handle(event) else { return }
        }
    }
}

@available(*, unavailable)
extension EventDrain: Sendable {}
