import EgressRoutes

/// What `egress plan` decided (README, "From a manifest to a running sidecar"): the sidecar's routes with token slots assigned, and which host
/// environment variable fills each slot. Holds no token values (see `resolveTokens(environment:)`).
///
/// Rules, in order:
/// 1. Provider routes come first, in the order given; a provider route with no `outbound_on_match` gets
///    `redact`, one with an explicit policy keeps it.
/// 2. Manifest routes follow in file order, keeping their DLP policy as written (unset stays unset, so the
///    sidecar's default `supervise` applies). A manifest route for a host a provider covers is dropped whole
///    (listed in `droppedRoutes`): the provider's route is the one the sidecar uses for that host.
/// 3. Each distinct `token_ref` gets the slot `EGRESS_TOKEN_<n>`, numbered from 0 in order of first use;
///    routes with the same `token_ref` share a slot.
public struct EgressPlan: Sendable, Equatable {
    public var log: LogLevel
    public var routes: [PlannedRoute]
    /// Slot by slot, in slot order.
    public var tokenSlots: [TokenSlot]
    /// Manifest routes left out because a provider covers their host.
    public var droppedRoutes: [DroppedRoute]

    public init(manifest: EgressManifest, providers: [Provider]) throws(PlanError) {
        var providerRoutes: [(ManifestRoute, RouteOrigin)] = []
        for (index, provider) in providers.enumerated() {
            if let earlier = providers[..<index].first(where: { $0.covers(provider.route.host) }) {
                throw .providerHostConflict(host: provider.route.host, first: earlier.name, second: provider.name)
            }
            var route = provider.route
            if route.dlp.outboundOnMatch == nil {
                route.dlp.outboundOnMatch = .redact
            }
            providerRoutes.append((route, .provider(provider.name)))
        }

        var manifestRoutes: [(ManifestRoute, RouteOrigin)] = []
        var dropped: [DroppedRoute] = []
        for (index, route) in manifest.routes.enumerated() {
            if let provider = providers.first(where: { $0.covers(route.host) }) {
                dropped.append(DroppedRoute(manifestIndex: index, host: route.host, provider: provider.name))
            } else {
                manifestRoutes.append((route, .manifest(index: index)))
            }
        }

        var slotForRef: [String: String] = [:]
        var planned: [PlannedRoute] = []
        for (route, origin) in providerRoutes + manifestRoutes {
            var slot: String?
            if let auth = route.auth {
                let assigned = slotForRef[auth.tokenRef] ?? "EGRESS_TOKEN_\(slotForRef.count)"
                slotForRef[auth.tokenRef] = assigned
                slot = assigned
            }
            planned.append(
                PlannedRoute(
                    route: route.route(tokenSlot: slot),
                    tokenRef: route.auth?.tokenRef,
                    roles: route.roles,
                    origin: origin
                )
            )
        }

        self.log = manifest.log
        self.routes = planned
        self.tokenSlots = try TokenSlot.slots(for: planned)
        self.droppedRoutes = dropped
    }

    /// The sidecar's config: what routes.yaml holds.
    public var routesConfig: RoutesConfig {
        RoutesConfig(log: log, routes: routes.map(\.route))
    }
}

/// One route of a plan, as the sidecar gets it, with what only the host knows.
public struct PlannedRoute: Sendable, Equatable {
    /// The routes.yaml route; `route.auth?.tokenEnv` is the token slot.
    public var route: Route
    /// The host environment variable holding the token for `route.auth`, when it has auth.
    public var tokenRef: String?
    /// The manifest route's `role` list (reserved; never written to routes.yaml).
    public var roles: [String]
    public var origin: RouteOrigin

    public init(route: Route, tokenRef: String?, roles: [String] = [], origin: RouteOrigin) {
        self.route = route
        self.tokenRef = tokenRef
        self.roles = roles
        self.origin = origin
    }
}

/// Where a planned route came from.
public enum RouteOrigin: Sendable, Equatable, CustomStringConvertible {
    /// A built-in provider, by `--provider` name.
    case provider(String)
    /// The manifest's `egress.routes[index]`.
    case manifest(index: Int)

    /// `--provider anthropic`, `egress.routes[2]`.
    public var description: String {
        switch self {
        case .provider(let name): "--provider \(name)"
        case .manifest(let index): "egress.routes[\(index)]"
        }
    }
}

/// A manifest route replaced by a provider's route for the same host.
public struct DroppedRoute: Sendable, Equatable {
    public var manifestIndex: Int
    public var host: HostPattern
    public var provider: String

    public init(manifestIndex: Int, host: HostPattern, provider: String) {
        self.manifestIndex = manifestIndex
        self.host = host
        self.provider = provider
    }
}
