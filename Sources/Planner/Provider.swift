import EgressRoutes

/// A built-in route for the agent's own model API, selected with `egress plan --provider NAME`.
///
/// Provider routes come before the manifest's routes; a manifest route for a host a provider covers is
/// dropped (see `EgressPlan`). Their `matches` allow the API calls the agent's client makes and nothing else
/// on that host. A provider route whose `outbound_on_match` is unset gets `redact` in the plan: conversation
/// payloads are the worst source of token-shaped false positives, so a match is scrubbed and forwarded rather
/// than held or refused. A provider that sets a policy keeps it (the built-in ones leave it unset; a caller of
/// this library may define providers of its own).
public struct Provider: Sendable, Equatable {
    /// The `--provider` name.
    public var name: String
    public var route: ManifestRoute

    public init(name: String, route: ManifestRoute) {
        self.name = name
        self.route = route
    }

    /// Every built-in provider, by name.
    public static let builtIn: [Provider] = [anthropic, openai, codex]

    /// The names `--provider` accepts, sorted.
    public static var builtInNames: [String] { builtIn.map(\.name).sorted() }

    /// The Anthropic Messages API (Claude Code): `x-api-key` from `ANTHROPIC_API_KEY`.
    /// `POST /v1/messages` (any query, e.g. `?beta=true`), `POST /v1/messages/count_tokens`, and
    /// `GET /v1/models`, `GET /v1/models/<id>`.
    public static let anthropic = Provider(
        name: "anthropic",
        route: ManifestRoute(
            host: builtInHost("api.anthropic.com"),
            auth: ManifestAuth(scheme: .xApiKey, tokenRef: "ANTHROPIC_API_KEY"),
            matches: [
                MatchEntry(
                    paths: [exact("/v1/messages"), exact("/v1/messages/count_tokens")],
                    methods: ["POST"]
                ),
                MatchEntry(
                    paths: [exact("/v1/models"), PathMatch(kind: .prefix, value: "/v1/models/")],
                    methods: ["GET"]
                ),
            ]
        )
    )

    /// The OpenAI platform API: `Authorization: Bearer` from `OPENAI_API_KEY`. Everything under `/v1/` with
    /// the methods that API uses (GET, POST, DELETE).
    public static let openai = Provider(
        name: "openai",
        route: ManifestRoute(
            host: builtInHost("api.openai.com"),
            auth: ManifestAuth(scheme: .bearer, tokenRef: "OPENAI_API_KEY"),
            matches: [MatchEntry(paths: [PathMatch(kind: .prefix, value: "/v1/")], methods: ["GET", "POST", "DELETE"])]
        )
    )

    /// The ChatGPT Codex backend the Codex CLI talks to when signed in with ChatGPT (base URL
    /// `https://chatgpt.com/backend-api/codex`): `Authorization: Bearer` from
    /// `BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN`. `POST /backend-api/codex/responses` (and its sub-paths such as
    /// `/responses/compact`), `GET /backend-api/codex/models`. Nothing else on chatgpt.com.
    public static let codex = Provider(
        name: "codex",
        route: ManifestRoute(
            host: builtInHost("chatgpt.com"),
            auth: ManifestAuth(scheme: .bearer, tokenRef: "BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN"),
            matches: [
                MatchEntry(
                    paths: [
                        exact("/backend-api/codex/responses"),
                        PathMatch(kind: .prefix, value: "/backend-api/codex/responses/"),
                    ],
                    methods: ["POST"]
                ),
                MatchEntry(paths: [exact("/backend-api/codex/models")], methods: ["GET"]),
            ]
        )
    )

    /// The providers `names` select, in order of first mention. A name given twice selects its provider
    /// once (repeating `--provider` is harmless); an unknown name is an error listing the known ones.
    public static func select(_ names: [String], from available: [Provider] = builtIn) throws(PlanError) -> [Provider] {
        var selected: [Provider] = []
        for name in names where !selected.contains(where: { $0.name == name }) {
            guard let provider = available.first(where: { $0.name == name }) else {
                throw .unknownProvider(name, known: available.map(\.name).sorted())
            }
            selected.append(provider)
        }
        return selected
    }

    /// Whether this provider takes over a route for `pattern`: the same host name (both exact or both
    /// wildcards) and overlapping ports, a bare host meaning 443 and 80. Such a manifest route would otherwise
    /// share or even win the provider's traffic (a port-pinned route beats a bare one).
    public func covers(_ pattern: HostPattern) -> Bool {
        let own = route.host
        guard own.host == pattern.host, own.isWildcard == pattern.isWildcard else { return false }
        return !Self.ports(own).isDisjoint(with: Self.ports(pattern))
    }

    private static func ports(_ pattern: HostPattern) -> Set<Int> {
        pattern.port.map { [$0] } ?? [443, 80]
    }
}

private func exact(_ path: String) -> PathMatch {
    PathMatch(kind: .exact, value: path)
}

private func builtInHost(_ text: String) -> HostPattern {
    do {
        return try HostPattern(text)
    } catch {
        preconditionFailure("built-in provider host \(text) is invalid: \(error)")
    }
}
