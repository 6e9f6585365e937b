import Testing

@testable import EgressRoutes

/// The route-body reader as the host-side planner will use it: a manifest's `egress.routes` list, with
/// `token_ref` instead of `token_env` and an extra `role` key, errors naming the manifest's key paths.
@Suite struct RouteFieldsReaderTests {
    static let manifest = """
        name: my-bottle
        egress:
          log: 1
          routes:
            - host: api.github.com
              auth_scheme: token
              token_ref: GITHUB_TOKEN
              matches: [{paths: [{value: /repos/}]}]
              git: {fetch: true}
              dlp: {outbound_on_match: block}
              role: []
        """

    /// Reads `egress.routes` the way the planner would.
    static func readRoutes(_ yaml: String) throws(RoutesConfigError) -> (LogLevel, [Route]) {
        let fields = RouteFieldsReader(file: "bottle.yaml")
        let reader = fields.reader
        let root = try reader.mapping(reader.document(yaml), at: .root, allowedKeys: ["name", "egress"])
        let egressPath = YAMLPath.root.key("egress")
        let egress = try reader.mapping(root["egress"], at: egressPath, allowedKeys: ["log", "routes"])
        let log =
            try egress["log"].map { node throws(RoutesConfigError) in
                try fields.logLevel(node, at: egressPath.key("log"))
            } ?? .off
        let routesPath = egressPath.key("routes")
        var routes: [Route] = []
        for (index, item) in try reader.sequence(egress["routes"], at: routesPath).enumerated() {
            let keys = RouteFieldsReader.routeKeys(tokenKey: "token_ref") + ["role"]
            let mapping = try reader.mapping(item, at: routesPath.index(index), allowedKeys: keys)
            _ = try reader.sequence(mapping["role"] ?? .sequence([]), at: routesPath.index(index).key("role"))
            routes.append(try fields.route(in: mapping, tokenKey: "token_ref"))
        }
        try fields.checkDistinctHosts(routes, at: routesPath)
        return (log, routes)
    }

    @Test func readsAManifestRoute() throws {
        let (log, routes) = try Self.readRoutes(Self.manifest)
        #expect(log == .blocks)
        #expect(
            routes == [
                Route(
                    host: host("api.github.com"),
                    auth: AuthInjection(scheme: .token, tokenEnv: "GITHUB_TOKEN"),
                    matches: [MatchEntry(paths: [PathMatch(value: "/repos/")])],
                    gitFetch: true,
                    dlp: DLPPolicy(outboundOnMatch: .block)
                )
            ]
        )
    }

    static func failure(_ yaml: String) -> RoutesConfigError? {
        do {
            _ = try readRoutes(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test func errorsNameTheManifestKeyPaths() throws {
        let halfAuth = try #require(Self.failure(Self.manifest.replacing("token_ref: GITHUB_TOKEN", with: "")))
        #expect(
            halfAuth.description
                == "bottle.yaml: egress.routes[0].token_ref: expected an environment variable name (auth_scheme is set), got nothing"
        )
        let tokenEnv = try #require(
            Self.failure(Self.manifest.replacing("token_ref: GITHUB_TOKEN", with: "token_env: GITHUB_TOKEN"))
        )
        #expect(tokenEnv.keyPath == "egress.routes[0].token_env")
        let log = try #require(Self.failure(Self.manifest.replacing("log: 1", with: "log: \"1\"")))
        #expect(log.description == "bottle.yaml: egress.log: expected the integer 0, 1 or 2, got \"1\"")
        let dlp = try #require(Self.failure(Self.manifest.replacing("block}", with: "allow}")))
        #expect(dlp.keyPath == "egress.routes[0].dlp.outbound_on_match")
        let regex = try #require(
            Self.failure(Self.manifest.replacing("{value: /repos/}", with: "{type: regex, value: \"(\"}"))
        )
        #expect(regex.keyPath == "egress.routes[0].matches[0].paths[0].value")
    }

    @Test func routeKeysFollowTheTokenKey() {
        #expect(
            RouteFieldsReader.routeKeys(tokenKey: "token_env") == [
                "host", "auth_scheme", "token_env", "matches", "git", "dlp",
            ]
        )
        #expect(RouteFieldsReader.routeKeys(tokenKey: "token_ref").contains("token_ref"))
        #expect(!RouteFieldsReader.routeKeys(tokenKey: "token_ref").contains("token_env"))
    }

    @Test func yamlPathRendering() {
        let path = YAMLPath.root.key("egress").key("routes").index(3).key("dlp")
        #expect(path.description == "egress.routes[3].dlp")
        #expect(YAMLPath.root.description == "")
        #expect(YAMLPath.root.key("a b").key("c").description == #"["a b"].c"#)
        #expect(YAMLPath.root.key("x").key("").description == #"x[""]"#)
        #expect(YAMLPath.root.key("ünï").description == #"["ünï"]"#)
    }
}
