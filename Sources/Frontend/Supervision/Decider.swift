/// Who settled a held request, as `GET /history` and the `egress_supervise` events name it.
public enum Decider: String, Sendable, Equatable, Codable {
    /// `egress supervise approve|deny`.
    case cli
    /// A button on the operator page.
    case page
    /// Any other client of the control API (one that does not say which it is).
    case api
    /// A standing decision made earlier for the same route, host and detectors.
    case rule
    /// Nobody decided within `--supervise-timeout`.
    case timeout
    /// The agent hung up before anyone decided.
    case agent
    /// egress began to stop: with the control listener closed, nobody can decide any more.
    case shutdown

    /// The deciders an operator's client may name itself as (`?by=` on the control API).
    public static let operatorClients: [Decider] = [.cli, .page, .api]
}
