import EgressTestSupport

@testable import EgressRoutes

/// Random valid `RoutesConfig`s (values already in normalised form), covering every field.
struct RoutesConfigGenerator {
    var rng: SeededGenerator

    /// Strings that YAML would misread, or that are awkward to quote.
    ///
    /// No string starts with U+FEFF: Yams decodes scalars with Foundation, which drops a leading byte order
    /// mark, so `parse` can never produce such a value (it is not a valid config value).
    static let trickyStrings = [
        "1", "true", "false", "null", "~", "yes", "on", "1.0", "0x1", "-1", "2024-01-01", ".inf", ": x", "#", "a # b",
        "  leading", "trailing  ", " ", "ünïcødé ✓ 🚀", "日本語", "tab\there", "line\nbreak", "cr\r\nlf", "quote\"s",
        "back\\slash", "'single'", "-", "- item", "[a, b]", "{a: b}", "&anchor", "*alias", "!tag", "%percent", "@at",
        "`tick", "|", ">", "?", "key: value", "<<", "=", "\u{85}nel", "mid\u{FEFF}bom", "\u{2028}ls", "\u{7}bell",
        "\u{0}nul", "\u{7F}", "\u{9F}", "\u{A0}nbsp", "\u{200B}", "\u{FFFE}", "\u{10FFFF}",
        "\u{1B}[0m", "e\u{301}", String(repeating: "long ", count: 40),
    ]

    static let hostNames = [
        "api.github.com", "github.com", "example.com", "a.b.c.example.org", "localhost", "x-y_z.internal", "10.0.0.1",
        "127.0.0.1", "com", "s3.amazonaws.com", "uploads.github.com", "registry.npmjs.org",
    ]

    static let ipv6 = ["::1", "2001:db8::1", "fe80::1:2", "::ffff:102:304", "1:2:3:4:5:6:7:8", "::"]

    static let regexes = [
        "/repos/[^/]+/[^/]+", ".*", "/a\\.b", "/(x|y)+", "/ü+", "^/api/v[0-9]+/.*$", "/#/", "[a-z]{2,}", "\\d+",
        "(?i)/Case", "/\\s*", "",
    ]

    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "M-SEARCH", "X_Y!"]

    static let headerNames = ["accept", "x-api-version", "x_custom", "content-type", "!#$%&'*+-.^_`|~", "1", "a"]

    static let detectorNames = ["github_token_classic", "aws_access_key_id", "prompt_injection", "x"]

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &rng) < probability
    }

    mutating func pick<T>(_ values: [T]) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    mutating func count(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &rng)
    }

    mutating func tricky() -> String {
        pick(Self.trickyStrings)
    }

    mutating func config() -> RoutesConfig {
        var routes: [Route] = []
        var used: Set<HostPattern> = []
        for _ in 0..<count(0...5) {
            let pattern = hostPattern()
            guard used.insert(pattern).inserted else { continue }
            routes.append(route(host: pattern))
        }
        return RoutesConfig(log: pick(LogLevel.allCases), routes: routes)
    }

    mutating func hostPattern() -> HostPattern {
        var text: String
        switch count(0...3) {
        case 0: text = "[\(pick(Self.ipv6))]"
        case 1: text = "*.\(pick(Self.hostNames))"
        default: text = pick(Self.hostNames)
        }
        if chance(0.3) { text += ":\(pick([1, 80, 443, 8080, 8443, 65535]))" }
        return host(text)
    }

    mutating func route(host: HostPattern) -> Route {
        var route = Route(host: host)
        if chance(0.5) {
            let name = pick(["EGRESS_TOKEN_0", "EGRESS_TOKEN_12", "_x", "GITHUB_TOKEN", "a"])
            route.auth = AuthInjection(scheme: pick(AuthScheme.allCases), tokenEnv: name)
        }
        if chance(0.7) {
            route.matches = (0..<count(0...3)).map { _ in matchEntry() }
        }
        route.gitFetch = chance(0.4)
        route.dlp = dlp()
        return route
    }

    mutating func matchEntry() -> MatchEntry {
        var entry = MatchEntry()
        if chance(0.6) {
            entry.paths = (0..<count(1...3)).map { _ in pathMatch() }
        }
        if chance(0.5) {
            entry.methods = (0..<count(1...3)).map { _ in pick(Self.methods).uppercased() }
        }
        if chance(0.5) {
            entry.headers = (0..<count(1...3)).map { _ in headerMatch() }
        }
        return entry
    }

    mutating func pathMatch() -> PathMatch {
        let kind = pick(PathMatchKind.allCases)
        switch kind {
        case .regex:
            return PathMatch(kind: .regex, value: pick(Self.regexes))
        case .prefix, .exact:
            let value = "/" + tricky().replacing("?", with: "")
            return PathMatch(kind: kind, value: value)
        }
    }

    mutating func headerMatch() -> HeaderMatch {
        let kind = pick(HeaderMatchKind.allCases)
        let value = kind == .regex ? pick(Self.regexes) : (chance(0.1) ? "" : tricky())
        return HeaderMatch(name: pick(Self.headerNames), kind: kind, value: value)
    }

    mutating func dlp() -> DLPPolicy {
        var policy = DLPPolicy()
        if chance(0.6) {
            policy.outboundDetectors = detectors()
            policy.inboundDetectors = detectors()
            policy.outboundOnMatch = chance(0.7) ? pick(OutboundAction.allCases) : nil
            policy.inboundOnMatch = chance(0.7) ? pick(InboundAction.allCases) : nil
        }
        return policy
    }

    mutating func detectors() -> DetectorSelection {
        switch count(0...2) {
        case 0: return .defaultSet
        case 1: return .off
        default:
            var names: [String] = []
            for _ in 0..<count(1...4) {
                let name = chance(0.5) ? pick(Self.detectorNames) : tricky()
                if !name.isEmpty, !names.contains(name) { names.append(name) }
            }
            return .only(names)
        }
    }
}
