import Detectors
import EgressRoutes
import EgressTestSupport

@testable import Planner

/// Random valid manifests, as a model (values in normalised form) and as manifest text with other top-level
/// sections around `egress:`.
///
/// The text is made by the sidecar's own renderer (`RoutesConfig.render()`, whose round trip is tested in
/// EgressRoutesTests) with `token_env` keys turned into `token_ref`, `role` lists added, and everything indented
/// under `egress:`; so the planner's reader is exercised on the same awkward strings as the sidecar's.
struct ManifestGenerator {
    var rng: SeededGenerator

    /// Strings YAML would misread, or that are awkward to quote.
    static let trickyStrings = [
        "1", "true", "false", "null", "~", "yes", "1.0", "0x1", "-1", "2024-01-01", ": x", "#", "a # b", " ",
        "  leading", "trailing  ", "ünïcødé ✓ 🚀", "tab\there", "line\nbreak", "cr\r\nlf", "quote\"s", "back\\slash",
        "'single'", "- item", "[a, b]", "{a: b}", "&anchor", "*alias", "!tag", "%percent", "@at", "key: value", "<<",
        "\u{85}nel", "\u{2028}ls", "\u{7}bell", "\u{0}nul", "\u{A0}nbsp", "\u{200B}", "e\u{301}", "token_env: X",
        "- host: x",
    ]

    /// Hosts, including the providers' (bare and pinned) so that routes get dropped.
    static let hostNames = [
        "api.github.com", "github.com", "example.com", "a.b.c.example.org", "localhost", "x-y_z.internal", "10.0.0.1",
        "api.anthropic.com", "api.openai.com", "chatgpt.com", "anthropic.com", "registry.npmjs.org",
    ]

    /// Shared with the providers' references, so that slots get shared across providers and manifest routes.
    static let tokenRefs = [
        "GITHUB_TOKEN", "NPM_TOKEN", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "_x", "a", "EGRESS_TOKEN_0",
    ]

    static let regexes = ["/repos/[^/]+/[^/]+", ".*", "/a\\.b", "/(x|y)+", "/ü+", "\\d+", "(?i)/Case", ""]
    static let methods = ["GET", "POST", "PUT", "DELETE", "PROPFIND", "M-SEARCH", "X_Y!"]
    static let headerNames = ["accept", "x-api-version", "x_custom", "!#$%&'*+-.^_`|~", "1"]
    static let roles = ["reader", "1", "true", "a: b", "#x", "ünï", "- x", "[x]", "quote\"d", "back\\slash"]
    static let detectorNames = DetectorCatalog.knownIDs.sorted()

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

    mutating func manifest() -> EgressManifest {
        var routes: [ManifestRoute] = []
        var used: Set<HostPattern> = []
        for _ in 0..<count(0...6) {
            var text = chance(0.2) ? "*.\(pick(Self.hostNames))" : pick(Self.hostNames)
            if chance(0.25) { text += ":\(pick([80, 443, 8443]))" }
            let pattern = host(text)
            guard used.insert(pattern).inserted else { continue }
            routes.append(route(host: pattern))
        }
        return EgressManifest(log: pick(LogLevel.allCases), routes: routes)
    }

    mutating func route(host: HostPattern) -> ManifestRoute {
        var route = ManifestRoute(host: host)
        if chance(0.6) {
            route.auth = ManifestAuth(scheme: pick(AuthScheme.allCases), tokenRef: pick(Self.tokenRefs))
        }
        if chance(0.6) {
            route.matches = (0..<count(0...3)).map { _ in matchEntry() }
        }
        route.gitFetch = chance(0.3)
        route.dlp = dlp()
        if chance(0.4) {
            route.roles = (0..<count(0...3)).map { _ in pick(Self.roles) }
        }
        return route
    }

    mutating func matchEntry() -> MatchEntry {
        var entry = MatchEntry()
        if chance(0.6) {
            entry.paths = (0..<count(1...3)).map { _ in
                let kind = pick(PathMatchKind.allCases)
                if kind == .regex { return PathMatch(kind: .regex, value: pick(Self.regexes)) }
                return PathMatch(kind: kind, value: "/" + pick(Self.trickyStrings).replacing("?", with: ""))
            }
        }
        if chance(0.5) {
            entry.methods = (0..<count(1...3)).map { _ in pick(Self.methods) }
        }
        if chance(0.5) {
            entry.headers = (0..<count(1...3)).map { _ in
                let kind = pick(HeaderMatchKind.allCases)
                let value = kind == .regex ? pick(Self.regexes) : pick(Self.trickyStrings)
                return HeaderMatch(name: pick(Self.headerNames), kind: kind, value: value)
            }
        }
        return entry
    }

    mutating func dlp() -> DLPPolicy {
        var policy = DLPPolicy()
        if chance(0.6) {
            policy.outboundDetectors = detectors()
            policy.inboundDetectors = detectors()
            policy.outboundOnMatch = chance(0.6) ? pick(OutboundAction.allCases) : nil
            policy.inboundOnMatch = chance(0.6) ? pick(InboundAction.allCases) : nil
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
                let name = pick(Self.detectorNames)
                if !names.contains(name) { names.append(name) }
            }
            return .only(names)
        }
    }

    /// `manifest` as a bottle manifest file, `egress:` among other sections.
    mutating func text(of manifest: EgressManifest) -> String {
        // The routes.yaml renderer writes each route's token reference as `token_env`; the manifest says
        // `token_ref`. Every string is double-quoted on one line, so a line-start key cannot be a value.
        let config = RoutesConfig(
            log: manifest.log,
            routes: manifest.routes.map { $0.route(tokenSlot: $0.auth?.tokenRef) }
        )
        var routeIndex = -1
        var lines: [String] = []
        for line in config.render().split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(line)
            if line.hasPrefix("  token_env: ") {
                line = "  token_ref: " + line.dropFirst("  token_env: ".count)
            }
            lines.append(line.isEmpty ? line : "  " + line)
            if line.hasPrefix("- host: ") {
                routeIndex += 1
                let roles = manifest.routes[routeIndex].roles
                if !roles.isEmpty || chance(0.3) {
                    lines.append("    role: [\(roles.map(Self.doubleQuoted).joined(separator: ", "))]")
                }
            }
        }
        precondition(routeIndex == manifest.routes.count - 1, "every route gets its role line")
        let egress = "egress:\n" + lines.joined(separator: "\n")
        let others = [
            "name: \"bottle-\(count(0...99))\"", "image: {ref: debian, routes: [1]}",
            "env:\n  token_env: x\n  log: true",
            "mounts:\n  - /work\n  - {egress: false}",
        ]
        var sections = (0..<count(0...3)).map { _ in pick(others) }
        sections.insert(egress, at: count(0...sections.count))
        var seen: Set<String> = []
        return sections.filter { seen.insert(String($0.prefix { $0 != ":" })).inserted }.joined(separator: "\n")
            + (chance(0.5) ? "\n" : "")
    }

    static func doubleQuoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}
