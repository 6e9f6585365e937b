import NIOCore

/// One deadline at a time on an event loop, moved without a cancel and a new schedule each time.
///
/// A proxy connection changes deadline several times per request (idle, request head, response);
/// a NIO timer for each change is an allocation, a heap insertion and a removal under the loop's
/// lock, a measurable share of a small request (README, "Benchmarks"). This keeps the deadline as a
/// value and one NIO timer at most: a later deadline leaves the armed timer alone, which on firing
/// sees the deadline moved and waits on for the rest; disarming only forgets the deadline. An
/// earlier deadline than the armed timer's replaces it. It never fires early, and fires `onExpire`
/// with the tag of the deadline in force, once, when that deadline has passed.
///
/// Bound to one loop and used only on it (not `Sendable`), like the handlers that own it. `stop()`
/// ends it for good: it releases the timer, and the owner `onExpire` captures.
final class CoalescingTimer<Tag> {
    private let loop: any EventLoop
    private var onExpire: ((Tag) -> Void)?
    private var target: (tag: Tag, at: NIODeadline)?
    private var scheduled: (task: Scheduled<Void>, at: NIODeadline)?

    init(loop: any EventLoop, onExpire: @escaping (Tag) -> Void) {
        self.loop = loop
        self.onExpire = onExpire
    }

    /// Whether a deadline is in force.
    var isArmed: Bool { target != nil }

    /// `tag` expires `timeout` from now, replacing any deadline in force.
    func arm(_ tag: Tag, in timeout: TimeAmount) {
        guard onExpire != nil else { return }
        let at = loop.now + timeout
        target = (tag, at)
        if let scheduled, scheduled.at <= at { return }
        scheduled?.task.cancel()
        schedule(at: at)
    }

    /// No deadline in force; a timer still armed fires into nothing.
    func disarm() {
        target = nil
    }

    /// Disarms for good and cancels the NIO timer (the owner is going away).
    func stop() {
        target = nil
        onExpire = nil
        scheduled?.task.cancel()
        scheduled = nil
    }

    private func schedule(at deadline: NIODeadline) {
        let task = loop.assumeIsolated().scheduleTask(deadline: deadline) { self.fired() }
        scheduled = (task, deadline)
    }

    private func fired() {
        scheduled = nil
        guard let target, let onExpire else { return }
        if target.at > loop.now {
            schedule(at: target.at)
            return
        }
        self.target = nil
        onExpire(target.tag)
    }
}
