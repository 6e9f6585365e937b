/// Route selection and request decisions for a validated `RoutesConfig` (README, "routes.yaml"), with every regex
/// compiled once. Pure: no I/O, safe to share across event loops.
public struct RouteTable: Sendable {
    public let config: RoutesConfig
    /// Parallel to `config.routes`; `nil` where the route has no `matches` key.
    private let compiledMatches: [[CompiledEntry]?]

    public init(_ config: RoutesConfig) {
        self.config = config
        self.compiledMatches = config.routes.map { route in route.matches.map { $0.map(CompiledEntry.init) } }
    }

    /// The route serving `host` on `port`: the exact-host route if there is one (a port-pinned one beating a
    /// bare one), else the wildcard route with the longest suffix (again pinned before bare). `nil` when no
    /// route accepts the host and port.
    public func route(forHost host: String, port: Int, isTLS: Bool) -> (index: Int, route: Route)? {
        // Ranked by (exact, wildcard suffix length, pinned); the first of equal ranks wins.
        var best: (index: Int, rank: (Int, Int, Int))?
        let candidate = HostPattern.normalisedRequestHost(host)
        for (index, route) in config.routes.enumerated()
        where route.host.matches(normalisedHost: candidate, port: port, isTLS: isTLS) {
            let pattern = route.host
            let rank = (
                pattern.isWildcard ? 0 : 1,
                pattern.isWildcard ? pattern.host.utf8.count : 0,
                pattern.port == nil ? 0 : 1
            )
            if let current = best, rank <= current.rank { continue }
            best = (index, rank)
        }
        return best.map { ($0.index, config.routes[$0.index]) }
    }

    /// Whether a request may go upstream, and if not, why.
    ///
    /// In order: the host must select a route; the decoded path must have no `.`/`..` segment; a git push
    /// (receive-pack) needs a `matches` entry with `paths` that matches it; a git fetch is allowed on a route
    /// with `git.fetch`; otherwise the route must have no `matches` or one entry must match: any listed path
    /// (compared with the path before `?`, still percent-encoded), any listed method, and every listed header
    /// (names case-insensitive; when a header repeats, any one field line may satisfy it).
    public func decide(host: String, port: Int, isTLS: Bool, request: RequestFacts) -> RouteDecision {
        guard let (index, route) = route(forHost: host, port: port, isTLS: isTLS) else {
            return .deny(reason: "egress: host not allowed: \(Self.display(host: host, port: port, isTLS: isTLS))")
        }
        let target = RequestTarget(request.target)
        if target.hasDotSegments {
            return .deny(reason: "egress: path with dot segments not allowed")
        }
        let entries = compiledMatches[index]
        // Built only for a route with entries to test: most routes have none.
        func facts() -> MatchFacts { MatchFacts(request: request, path: target.path) }

        switch GitRequest.classify(method: request.method.uppercased(), target: target) {
        case .push:
            let facts = facts()
            let allowed = entries?.contains { $0.hasPaths && $0.matches(facts) } ?? false
            return allowed ? .allow(routeIndex: index) : .deny(reason: "egress: git push is not allowed")
        case .fetch where route.gitFetch:
            return .allow(routeIndex: index)
        case .fetch, .other:
            break
        }
        guard let entries else { return .allow(routeIndex: index) }
        let facts = facts()
        if entries.contains(where: { $0.matches(facts) }) {
            return .allow(routeIndex: index)
        }
        let shown = Self.display(host: host, port: port, isTLS: isTLS)
        return .deny(reason: "egress: no route match for \(facts.method) \(target.path) on \(shown)")
    }

    /// `host` lowercased (IPv6 in brackets), with `:port` unless it is the scheme's default.
    private static func display(host: String, port: Int, isTLS: Bool) -> String {
        let normalised = HostPattern.normalisedRequestHost(host)
        return HostPort(host: normalised, port: port == (isTLS ? 443 : 80) ? nil : port).description
    }
}

/// The request, prepared once for testing against every entry.
private struct MatchFacts {
    let method: String
    let path: String
    let headers: [(name: String, value: String)]

    init(request: RequestFacts, path: String) {
        self.method = request.method.uppercased()
        self.path = path
        self.headers = request.headers.map { (name: $0.name.lowercased(), value: $0.value) }
    }
}

/// One `matches` entry with its values compiled.
private struct CompiledEntry: Sendable {
    let paths: [TextMatcher]?
    let methods: [String]?
    let headers: [(name: String, matcher: TextMatcher)]?

    init(_ entry: MatchEntry) {
        paths = entry.paths?.map(TextMatcher.init(path:))
        methods = entry.methods?.map { $0.uppercased() }
        headers = entry.headers?.map { (name: $0.name.lowercased(), matcher: TextMatcher(header: $0)) }
    }

    /// Whether the entry lists paths; only such entries can allow a git push.
    var hasPaths: Bool { !(paths?.isEmpty ?? true) }

    /// Absent lists match anything; an empty `paths` or `methods` list (never produced by parsing) matches
    /// nothing.
    func matches(_ facts: MatchFacts) -> Bool {
        if let paths, !paths.contains(where: { $0.matches(facts.path) }) { return false }
        if let methods, !methods.contains(facts.method) { return false }
        if let headers {
            for header in headers {
                let satisfied = facts.headers.contains { $0.name == header.name && header.matcher.matches($0.value) }
                if !satisfied { return false }
            }
        }
        return true
    }
}
