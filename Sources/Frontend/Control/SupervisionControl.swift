/// What the control API needs from the supervision queue: the held requests and the two decisions.
/// `SupervisionQueue` is the real one; routing tests use a stand-in.
public protocol SupervisionControl: Sendable {
    func pending() -> [SupervisionQueue.HeldRequest]
    func approve(_ id: String) throws(SupervisionQueue.SettleError)
    func deny(_ id: String) throws(SupervisionQueue.SettleError)
}

extension SupervisionQueue: SupervisionControl {}
