/// Something told of every change in the supervision queue: the notifier (`--notify`) and the
/// decisions file (`--decisions-file`).
///
/// Called under the queue's lock, so changes arrive in the order they happened: an observer only
/// hands the change on (a bounded queue, a serial dispatch queue) and never blocks or calls back.
public protocol SupervisionObserver: Sendable {
    func supervisionChanged(_ change: SupervisionChange)
}

public enum SupervisionChange: Sendable, Equatable {
    /// A request now waits for the operator.
    case held(SupervisionQueue.HeldRequest)
    /// A held request was settled, or a standing decision settled a request at once (`by` `.rule`).
    case settled(SupervisionBook.Settlement)
    /// The standing decisions in force are now these (one was made, renewed or revoked).
    case standingDecisions([StandingDecision])
}
