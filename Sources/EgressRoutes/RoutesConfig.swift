/// The sidecar's policy, as read from routes.yaml (README, "routes.yaml").
///
/// Values are normalised on parse (hosts and auth schemes lowercased, methods uppercased) so that
/// `parse(render(x)) == x` holds for every parsed config.
public struct RoutesConfig: Sendable, Equatable {
    public var log: LogLevel
    public var routes: [Route]

    public init(log: LogLevel = .off, routes: [Route] = []) {
        self.log = log
        self.routes = routes
    }
}

/// How much the proxy reports on stderr. Only the integers 0, 1 and 2 are accepted in files.
public enum LogLevel: Int, Sendable, Equatable, CaseIterable, Comparable {
    case off = 0
    case blocks = 1
    case full = 2

    /// The label used by the boot event.
    public var label: String {
        switch self {
        case .off: "off"
        case .blocks: "blocks"
        case .full: "full"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct Route: Sendable, Equatable {
    public var host: HostPattern
    public var auth: AuthInjection?
    /// `nil` means the key was absent: every request to the host is allowed.
    public var matches: [MatchEntry]?
    public var gitFetch: Bool
    public var dlp: DLPPolicy

    public init(
        host: HostPattern,
        auth: AuthInjection? = nil,
        matches: [MatchEntry]? = nil,
        gitFetch: Bool = false,
        dlp: DLPPolicy = DLPPolicy()
    ) {
        self.host = host
        self.auth = auth
        self.matches = matches
        self.gitFetch = gitFetch
        self.dlp = dlp
    }
}

/// Which credential replaces whatever the agent sent, and where its value comes from.
public struct AuthInjection: Sendable, Equatable {
    public var scheme: AuthScheme
    /// Name of the environment variable holding the token; never the token itself.
    public var tokenEnv: String

    public init(scheme: AuthScheme, tokenEnv: String) {
        self.scheme = scheme
        self.tokenEnv = tokenEnv
    }
}

public enum AuthScheme: String, Sendable, Equatable, CaseIterable {
    case bearer
    case token
    case basic
    case xApiKey = "x-api-key"
}

/// One entry of a route's `matches` list. An absent list means "any"; all present lists must match.
public struct MatchEntry: Sendable, Equatable {
    public var paths: [PathMatch]?
    public var methods: [String]?
    public var headers: [HeaderMatch]?

    public init(paths: [PathMatch]? = nil, methods: [String]? = nil, headers: [HeaderMatch]? = nil) {
        self.paths = paths
        self.methods = methods
        self.headers = headers
    }
}

public struct PathMatch: Sendable, Equatable {
    public var kind: PathMatchKind
    public var value: String

    public init(kind: PathMatchKind = .prefix, value: String) {
        self.kind = kind
        self.value = value
    }
}

/// How a `paths` value is compared with the request path (the request-target before `?`, as sent, not
/// percent-decoded).
public enum PathMatchKind: String, Sendable, Equatable, CaseIterable {
    /// The path starts with the value (plain string prefix: `/repos` also matches `/reposX`).
    case prefix
    /// The path equals the value.
    case exact
    /// A Swift `Regex` that must match the *whole* path (as if anchored with `^…$`), checked to compile at
    /// load time.
    case regex
}

public struct HeaderMatch: Sendable, Equatable {
    /// Lowercased on parse: header names compare case-insensitively.
    public var name: String
    public var kind: HeaderMatchKind
    public var value: String

    public init(name: String, kind: HeaderMatchKind = .exact, value: String) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

/// How a `headers` value is compared with a request header's value (case-sensitive).
public enum HeaderMatchKind: String, Sendable, Equatable, CaseIterable {
    /// The value equals the header value.
    case exact
    /// The header value starts with the value.
    case prefix
    /// A Swift `Regex` that must match the *whole* header value (as if anchored with `^…$`), checked to
    /// compile at load time.
    case regex
}

public struct DLPPolicy: Sendable, Equatable {
    public var outboundDetectors: DetectorSelection
    public var inboundDetectors: DetectorSelection
    /// `nil` when absent from the file; the effective policy is then `supervise`.
    public var outboundOnMatch: OutboundAction?
    /// `nil` when absent from the file; the effective policy is then `warn`.
    public var inboundOnMatch: InboundAction?
    /// The severity from which `inbound_on_match` applies; `nil` when absent (`medium`).
    public var inboundThreshold: InboundThreshold?

    public init(
        outboundDetectors: DetectorSelection = .defaultSet,
        inboundDetectors: DetectorSelection = .defaultSet,
        outboundOnMatch: OutboundAction? = nil,
        inboundOnMatch: InboundAction? = nil,
        inboundThreshold: InboundThreshold? = nil
    ) {
        self.outboundDetectors = outboundDetectors
        self.inboundDetectors = inboundDetectors
        self.outboundOnMatch = outboundOnMatch
        self.inboundOnMatch = inboundOnMatch
        self.inboundThreshold = inboundThreshold
    }

    public var effectiveInboundThreshold: InboundThreshold { inboundThreshold ?? .medium }

    public var effectiveOutboundOnMatch: OutboundAction { outboundOnMatch ?? .supervise }
    public var effectiveInboundOnMatch: InboundAction { inboundOnMatch ?? .warn }
}

public enum DetectorSelection: Sendable, Equatable {
    /// Key absent: the catalog's default set for that direction.
    case defaultSet
    /// `false` or `[]`: DLP off in that direction.
    case off
    case only([String])

    public var isOff: Bool { self == .off }
}

public enum OutboundAction: String, Sendable, Equatable, CaseIterable {
    case block
    case redact
    case supervise
    case warn
}

public enum InboundAction: String, Sendable, Equatable, CaseIterable {
    case warn
    case block
}

/// A document's prompt-injection severity from which the route's `inbound_on_match` applies;
/// findings below it are only logged (README, "How inbound findings are judged").
public enum InboundThreshold: String, Sendable, Equatable, CaseIterable {
    case low
    case medium
    case high
}
