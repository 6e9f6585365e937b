import EgressRoutes

/// The `egress:` section of a bottle manifest (README, "From a manifest to a running sidecar"): what the bottle may reach, with token references
/// to host environment variables instead of the sidecar's token slots.
///
/// ```yaml
/// egress:
///   log: 1                       # 0/1/2 only, same validation as routes.yaml
///   routes:
///     - host: api.github.com
///       auth_scheme: token
///       token_ref: GITHUB_TOKEN  # host env var read by `egress plan`
///       matches: [...]           # same shape as routes.yaml
///       git: {fetch: true}
///       dlp: {outbound_on_match: block}
///       role: []                 # reserved, carried but unused
/// ```
public struct EgressManifest: Sendable, Equatable {
    public var log: LogLevel
    public var routes: [ManifestRoute]

    public init(log: LogLevel = .off, routes: [ManifestRoute] = []) {
        self.log = log
        self.routes = routes
    }
}

/// A route as the host knows it: the fields routes.yaml carries, except that the credential names a host
/// environment variable (`token_ref`) rather than a token slot. Built-in providers are routes of this kind too.
public struct ManifestRoute: Sendable, Equatable {
    public var host: HostPattern
    public var auth: ManifestAuth?
    /// `nil` means the key was absent: every request to the host is allowed.
    public var matches: [MatchEntry]?
    public var gitFetch: Bool
    public var dlp: DLPPolicy
    /// The manifest's `role` list: reserved, carried through the plan but never written to routes.yaml.
    public var roles: [String]

    public init(
        host: HostPattern,
        auth: ManifestAuth? = nil,
        matches: [MatchEntry]? = nil,
        gitFetch: Bool = false,
        dlp: DLPPolicy = DLPPolicy(),
        roles: [String] = []
    ) {
        self.host = host
        self.auth = auth
        self.matches = matches
        self.gitFetch = gitFetch
        self.dlp = dlp
        self.roles = roles
    }

    /// The routes.yaml route, its credential (if any) read from the sidecar environment variable `tokenSlot`.
    /// A route has a slot exactly when it has `auth`.
    public func route(tokenSlot: String?) -> Route {
        precondition((auth == nil) == (tokenSlot == nil), "a token slot goes with auth, and only with auth")
        var route = Route(host: host, matches: matches, gitFetch: gitFetch, dlp: dlp)
        if let auth, let tokenSlot {
            route.auth = AuthInjection(scheme: auth.scheme, tokenEnv: tokenSlot)
        }
        return route
    }
}

/// `auth_scheme` + `token_ref`: how the sidecar injects the credential, and which host environment variable
/// holds it.
public struct ManifestAuth: Sendable, Equatable {
    public var scheme: AuthScheme
    /// A host environment variable name; its value goes into the sidecar's env file, never into routes.yaml.
    public var tokenRef: String

    public init(scheme: AuthScheme, tokenRef: String) {
        self.scheme = scheme
        self.tokenRef = tokenRef
    }
}
