import Yams

/// Reads the body of one route: `host`, `auth_scheme` + token key, `matches`, `git` and `dlp`.
///
/// routes.yaml and a bottle manifest's `egress.routes` share this shape; they differ only in the token key
/// (`token_env` here, `token_ref` in a manifest) and in extra keys the manifest carries (`role`). A caller
/// checks the route mapping's keys with its own list (`routeKeys(tokenKey:)` plus its extras), then calls
/// `route(in:tokenKey:)`; errors name the caller's key path, e.g. `egress.routes[2].dlp.outbound_on_match`.
package struct RouteFieldsReader: Sendable {
    package let reader: YAMLReader
    /// Detector ids the catalog knows; `nil` skips the check (names are then only checked to be non-empty).
    package let knownDetectors: Set<String>?

    package init(file: String, knownDetectors: Set<String>? = nil) {
        self.reader = YAMLReader(file: file)
        self.knownDetectors = knownDetectors
    }

    /// The keys of a route mapping handled by `route(in:tokenKey:)`, in file order.
    package static func routeKeys(tokenKey: String) -> [String] {
        ["host", "auth_scheme", tokenKey, "matches", "git", "dlp"]
    }

    /// All shared fields of a route. `auth.tokenEnv` holds the value of `tokenKey` (an environment variable
    /// name either way).
    package func route(in mapping: YAMLMapping, tokenKey: String) throws(RoutesConfigError) -> Route {
        let path = mapping.path
        var route = Route(host: try host(mapping["host"], at: path.key("host")))
        route.auth = try auth(in: mapping, tokenKey: tokenKey)
        if let node = mapping["matches"] {
            route.matches = try matches(node, at: path.key("matches"))
        }
        if let node = mapping["git"] {
            route.gitFetch = try gitFetch(node, at: path.key("git"))
        }
        if let node = mapping["dlp"] {
            route.dlp = try dlp(node, at: path.key("dlp"))
        }
        return route
    }

    /// `log`: the plain integer 0, 1 or 2.
    package func logLevel(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> LogLevel {
        let value = try reader.integer(node, at: path, allowed: [0, 1, 2], expected: "the integer 0, 1 or 2")
        guard let level = LogLevel(rawValue: value) else {
            throw reader.failure(at: path, expected: "the integer 0, 1 or 2", found: node)
        }
        return level
    }

    package func host(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> HostPattern {
        let text = try reader.string(node, at: path, expected: "a host name")
        do {
            return try HostPattern(text)
        } catch {
            throw .invalid(file: reader.file, at: path, expected: error.expected, found: ConfigText.quoted(text))
        }
    }

    /// `auth_scheme` and `tokenKey`: both or neither.
    package func auth(in mapping: YAMLMapping, tokenKey: String) throws(RoutesConfigError) -> AuthInjection? {
        let schemeNode = mapping["auth_scheme"]
        let tokenNode = mapping[tokenKey]
        let schemePath = mapping.path.key("auth_scheme")
        let tokenPath = mapping.path.key(tokenKey)
        switch (schemeNode, tokenNode) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw reader.failure(
                at: tokenPath,
                expected: "an environment variable name (auth_scheme is set)",
                found: nil
            )
        case (nil, .some):
            let schemes = AuthScheme.allCases.map(\.rawValue).joined(separator: ", ")
            throw reader.failure(at: schemePath, expected: "one of \(schemes) (\(tokenKey) is set)", found: nil)
        case (.some(let schemeNode), .some(let tokenNode)):
            let scheme = try reader.keyword(schemeNode, at: schemePath, as: AuthScheme.self, caseInsensitive: true)
            let expected = "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
            let name = try reader.string(tokenNode, at: tokenPath, expected: expected)
            guard ConfigText.isEnvironmentName(name) else {
                throw reader.failure(at: tokenPath, expected: expected, found: tokenNode)
            }
            return AuthInjection(scheme: scheme, tokenEnv: name)
        }
    }

    /// `matches`: a list (possibly empty: only git fetch, if enabled, is then allowed) of entries.
    package func matches(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> [MatchEntry] {
        var entries: [MatchEntry] = []
        for (index, item) in try reader.sequence(node, at: path).enumerated() {
            entries.append(try matchEntry(item, at: path.index(index)))
        }
        return entries
    }

    /// One `matches` entry. Each present list must be non-empty (omit the key to mean "any").
    package func matchEntry(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> MatchEntry {
        let mapping = try reader.mapping(node, at: path, allowedKeys: ["paths", "methods", "headers"])
        var entry = MatchEntry()
        if let node = mapping["paths"] {
            let listPath = path.key("paths")
            var paths: [PathMatch] = []
            for (index, item) in try nonEmptyList(node, at: listPath).enumerated() {
                paths.append(try pathMatch(item, at: listPath.index(index)))
            }
            entry.paths = paths
        }
        if let node = mapping["methods"] {
            let listPath = path.key("methods")
            var methods: [String] = []
            for (index, item) in try nonEmptyList(node, at: listPath).enumerated() {
                let itemPath = listPath.index(index)
                let method = try reader.string(item, at: itemPath, expected: "an HTTP method")
                guard ConfigText.isHTTPToken(method) else {
                    throw reader.failure(at: itemPath, expected: "an HTTP method", found: item)
                }
                methods.append(method.uppercased())
            }
            entry.methods = methods
        }
        if let node = mapping["headers"] {
            let listPath = path.key("headers")
            var headers: [HeaderMatch] = []
            for (index, item) in try nonEmptyList(node, at: listPath).enumerated() {
                headers.append(try headerMatch(item, at: listPath.index(index)))
            }
            entry.headers = headers
        }
        return entry
    }

    /// `{type?, value}`. Prefix and exact values must start with `/` and hold no `?` (the query string is
    /// never matched); a regex must compile.
    package func pathMatch(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> PathMatch {
        let mapping = try reader.mapping(node, at: path, allowedKeys: ["type", "value"])
        var kind = PathMatchKind.prefix
        if let node = mapping["type"] {
            kind = try reader.keyword(node, at: path.key("type"), as: PathMatchKind.self)
        }
        let valuePath = path.key("value")
        let valueNode = mapping["value"]
        switch kind {
        case .prefix, .exact:
            let expected = "a path starting with \"/\" and without a query"
            let value = try reader.string(valueNode, at: valuePath, expected: expected)
            guard value.hasPrefix("/"), !value.contains("?") else {
                throw reader.failure(at: valuePath, expected: expected, found: valueNode)
            }
            return PathMatch(kind: kind, value: value)
        case .regex:
            let value = try reader.string(valueNode, at: valuePath, expected: "a regular expression")
            try checkRegex(value, node: valueNode, at: valuePath)
            return PathMatch(kind: .regex, value: value)
        }
    }

    /// `{name, value, type?}`. Names are HTTP tokens, lowercased.
    package func headerMatch(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> HeaderMatch {
        let mapping = try reader.mapping(node, at: path, allowedKeys: ["name", "value", "type"])
        let namePath = path.key("name")
        let name = try reader.string(mapping["name"], at: namePath, expected: "a header name")
        guard ConfigText.isHTTPToken(name) else {
            throw reader.failure(at: namePath, expected: "a header name", found: mapping["name"])
        }
        var kind = HeaderMatchKind.exact
        if let node = mapping["type"] {
            kind = try reader.keyword(node, at: path.key("type"), as: HeaderMatchKind.self)
        }
        let valuePath = path.key("value")
        let value = try reader.string(mapping["value"], at: valuePath, expected: "a header value")
        if kind == .regex {
            try checkRegex(value, node: mapping["value"], at: valuePath)
        }
        return HeaderMatch(name: name.lowercased(), kind: kind, value: value)
    }

    /// `git: {fetch: bool}`; `git: {}` is `fetch: false`.
    package func gitFetch(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> Bool {
        let mapping = try reader.mapping(node, at: path, allowedKeys: ["fetch"])
        guard let fetch = mapping["fetch"] else { return false }
        return try reader.bool(fetch, at: path.key("fetch"))
    }

    package func dlp(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> DLPPolicy {
        let mapping = try reader.mapping(
            node,
            at: path,
            allowedKeys: [
                "outbound_detectors", "inbound_detectors", "outbound_on_match", "inbound_on_match", "inbound_threshold",
            ]
        )
        var policy = DLPPolicy()
        if let node = mapping["outbound_detectors"] {
            policy.outboundDetectors = try detectors(node, at: path.key("outbound_detectors"))
        }
        if let node = mapping["inbound_detectors"] {
            policy.inboundDetectors = try detectors(node, at: path.key("inbound_detectors"))
        }
        if let node = mapping["outbound_on_match"] {
            policy.outboundOnMatch = try reader.keyword(
                node,
                at: path.key("outbound_on_match"),
                as: OutboundAction.self
            )
        }
        if let node = mapping["inbound_on_match"] {
            policy.inboundOnMatch = try reader.keyword(node, at: path.key("inbound_on_match"), as: InboundAction.self)
        }
        if let node = mapping["inbound_threshold"] {
            policy.inboundThreshold = try reader.keyword(
                node,
                at: path.key("inbound_threshold"),
                as: InboundThreshold.self
            )
        }
        return policy
    }

    /// `false` or `[]` (off), or a list of distinct, non-empty detector names (checked against
    /// `knownDetectors` when given). `true` is an error: the default set is chosen by omitting the key.
    package func detectors(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> DetectorSelection {
        let expected = "a list of detector names or false"
        if let node, let flag = reader.boolValue(node) {
            guard !flag else { throw reader.failure(at: path, expected: expected, found: node) }
            return .off
        }
        guard let items = node?.sequence else { throw reader.failure(at: path, expected: expected, found: node) }
        guard !items.isEmpty else { return .off }
        var names: [String] = []
        for (index, item) in items.enumerated() {
            let itemPath = path.index(index)
            let name = try reader.string(item, at: itemPath, expected: "a detector name")
            guard !name.isEmpty else { throw reader.failure(at: itemPath, expected: "a detector name", found: item) }
            guard !names.contains(name) else {
                throw reader.failure(at: itemPath, expected: "each detector once", found: item)
            }
            if let knownDetectors, !knownDetectors.contains(name) {
                throw reader.failure(at: itemPath, expected: "a known detector name", found: item)
            }
            names.append(name)
        }
        return .only(names)
    }

    /// Two routes with the same (normalised) host pattern are an error naming both indexes.
    package func checkDistinctHosts(_ routes: [Route], at listPath: YAMLPath) throws(RoutesConfigError) {
        var firstIndex: [HostPattern: Int] = [:]
        for (index, route) in routes.enumerated() {
            if let first = firstIndex[route.host] {
                throw .invalid(
                    file: reader.file,
                    at: listPath.index(index).key("host"),
                    expected: "a host not already used by \(listPath.index(first))",
                    found: ConfigText.quoted(route.host.description)
                )
            }
            firstIndex[route.host] = index
        }
    }

    private func nonEmptyList(_ node: Node, at path: YAMLPath) throws(RoutesConfigError) -> [Node] {
        let items = try reader.sequence(node, at: path)
        guard !items.isEmpty else {
            throw reader.failure(at: path, expected: "a non-empty list (omit the key to allow any)", found: node)
        }
        return items
    }

    private func checkRegex(_ pattern: String, node: Node?, at path: YAMLPath) throws(RoutesConfigError) {
        do {
            _ = try Regex(pattern)
        } catch {
            let reason = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            throw .invalid(
                file: reader.file,
                at: path,
                expected: "a regular expression that compiles",
                found: "\(ConfigText.quoted(pattern)) (\(reason))"
            )
        }
    }
}
