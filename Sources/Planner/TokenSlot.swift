import EgressRoutes

/// One sidecar token variable (`EGRESS_TOKEN_<n>`) and the host environment variable that fills it.
public struct TokenSlot: Sendable, Equatable {
    /// The sidecar's variable, e.g. `EGRESS_TOKEN_0` (a route's `token_env`).
    public var slot: String
    /// The host's variable, e.g. `GITHUB_TOKEN` (a manifest route's `token_ref`).
    public var tokenRef: String
    /// The planned routes using the slot, in plan order (for messages).
    public var users: [RouteUse]

    public init(slot: String, tokenRef: String, users: [RouteUse]) {
        self.slot = slot
        self.tokenRef = tokenRef
        self.users = users
    }

    /// A route that injects a slot's token: its host and where it came from.
    public struct RouteUse: Sendable, Equatable, CustomStringConvertible {
        public var host: HostPattern
        public var origin: RouteOrigin

        public init(host: HostPattern, origin: RouteOrigin) {
            self.host = host
            self.origin = origin
        }

        /// `api.github.com (egress.routes[0])`.
        public var description: String { "\(host) (\(origin))" }
    }

    /// The slots `routes` use, in order of first use, each with its one host variable.
    ///
    /// A slot that two routes fill from different host variables is a plan conflict: the sidecar would inject
    /// one of the two tokens into both routes.
    public static func slots(for routes: [PlannedRoute]) throws(PlanError) -> [TokenSlot] {
        var slots: [TokenSlot] = []
        for planned in routes {
            guard let auth = planned.route.auth else { continue }
            guard let tokenRef = planned.tokenRef else {
                throw .slotWithoutReference(slot: auth.tokenEnv, route: planned.origin.description)
            }
            let use = RouteUse(host: planned.route.host, origin: planned.origin)
            if let index = slots.firstIndex(where: { $0.slot == auth.tokenEnv }) {
                guard slots[index].tokenRef == tokenRef else {
                    throw .slotConflict(slot: auth.tokenEnv, first: slots[index].tokenRef, second: tokenRef)
                }
                slots[index].users.append(use)
            } else {
                slots.append(TokenSlot(slot: auth.tokenEnv, tokenRef: tokenRef, users: [use]))
            }
        }
        return slots
    }
}
