/// The outcome of `RouteTable.decide`.
public enum RouteDecision: Sendable, Equatable {
    /// Allowed by `config.routes[routeIndex]`.
    case allow(routeIndex: Int)
    /// Blocked; `reason` is the short, stable string for the 403 body and the event log (README, "Request handling"), e.g.
    /// `egress: host not allowed: evil.example`.
    case deny(reason: String)
}
