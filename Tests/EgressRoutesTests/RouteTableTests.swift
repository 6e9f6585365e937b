import Testing

@testable import EgressRoutes

@Suite struct RouteTableTests {
    static func table(_ yaml: String) throws -> RouteTable {
        RouteTable(try RoutesConfig.parse(yaml: yaml, file: "routes.yaml"))
    }

    static func decide(
        _ table: RouteTable,
        _ method: String,
        _ target: String,
        host: String = "api.github.com",
        port: Int = 443,
        isTLS: Bool = true,
        headers: [(name: String, value: String)] = []
    ) -> RouteDecision {
        table.decide(
            host: host,
            port: port,
            isTLS: isTLS,
            request: RequestFacts(method: method, target: target, headers: headers)
        )
    }

    static func noMatch(_ method: String, _ path: String, on host: String = "api.github.com") -> RouteDecision {
        .deny(reason: "egress: no route match for \(method) \(path) on \(host)")
    }

    static let pushDenied = RouteDecision.deny(reason: "egress: git push is not allowed")

    // MARK: Route selection

    @Test func exactBeatsWildcardWhateverTheOrder() throws {
        let table = try Self.table("routes:\n  - host: \"*.github.com\"\n  - host: api.github.com\n")
        #expect(table.route(forHost: "api.github.com", port: 443, isTLS: true)?.index == 1)
        #expect(table.route(forHost: "uploads.github.com", port: 443, isTLS: true)?.index == 0)
        let reversed = try Self.table("routes:\n  - host: api.github.com\n  - host: \"*.github.com\"\n")
        #expect(reversed.route(forHost: "api.github.com", port: 443, isTLS: true)?.index == 0)
        #expect(reversed.route(forHost: "uploads.github.com", port: 443, isTLS: true)?.index == 1)
    }

    @Test func longestWildcardSuffixWins() throws {
        let yaml = """
            routes:
              - host: "*.com"
              - host: "*.api.example.com"
              - host: "*.example.com"
            """
        let table = try Self.table(yaml)
        #expect(table.route(forHost: "v1.api.example.com", port: 443, isTLS: true)?.index == 1)
        #expect(table.route(forHost: "a.b.v1.api.example.com", port: 443, isTLS: true)?.index == 1)
        #expect(table.route(forHost: "www.example.com", port: 443, isTLS: true)?.index == 2)
        #expect(table.route(forHost: "api.example.com", port: 443, isTLS: true)?.index == 2)
        #expect(table.route(forHost: "example.com", port: 443, isTLS: true)?.index == 0)
        #expect(table.route(forHost: "other.org", port: 443, isTLS: true) == nil)
    }

    @Test func wildcardDoesNotMatchTheApex() throws {
        let table = try Self.table("routes:\n  - host: \"*.example.com\"\n")
        #expect(table.route(forHost: "example.com", port: 443, isTLS: true) == nil)
        #expect(
            Self.decide(table, "GET", "/", host: "example.com")
                == .deny(reason: "egress: host not allowed: example.com")
        )
        #expect(Self.decide(table, "GET", "/", host: "www.example.com") == .allow(routeIndex: 0))
    }

    @Test func pinnedExactBeatsBareExact() throws {
        let table = try Self.table("routes:\n  - host: api.github.com\n  - host: \"api.github.com:443\"\n")
        #expect(table.route(forHost: "api.github.com", port: 443, isTLS: true)?.index == 1)
        // Plain http on 80 only fits the bare route.
        #expect(table.route(forHost: "api.github.com", port: 80, isTLS: false)?.index == 0)
    }

    @Test func pinnedWildcardBeatsBareWildcardOfTheSameSuffix() throws {
        let table = try Self.table("routes:\n  - host: \"*.x.io\"\n  - host: \"*.x.io:443\"\n")
        #expect(table.route(forHost: "a.x.io", port: 443, isTLS: true)?.index == 1)
    }

    @Test func exactBeatsPinnedWildcard() throws {
        let table = try Self.table("routes:\n  - host: \"*.x.io:443\"\n  - host: a.x.io\n")
        #expect(table.route(forHost: "a.x.io", port: 443, isTLS: true)?.index == 1)
    }

    @Test func portsSelectRoutes() throws {
        let table = try Self.table("routes:\n  - host: a.example\n  - host: \"b.example:8443\"\n")
        #expect(table.route(forHost: "a.example", port: 443, isTLS: true)?.index == 0)
        #expect(table.route(forHost: "a.example", port: 80, isTLS: false)?.index == 0)
        #expect(table.route(forHost: "a.example", port: 8443, isTLS: true) == nil)
        #expect(table.route(forHost: "a.example", port: 80, isTLS: true) == nil)
        #expect(table.route(forHost: "b.example", port: 8443, isTLS: true)?.index == 1)
        #expect(table.route(forHost: "b.example", port: 8443, isTLS: false)?.index == 1)
        #expect(table.route(forHost: "b.example", port: 443, isTLS: true) == nil)
    }

    @Test func hostIsCaseInsensitive() throws {
        let table = try Self.table("routes:\n  - host: Api.GitHub.com\n")
        #expect(Self.decide(table, "GET", "/", host: "API.GITHUB.COM") == .allow(routeIndex: 0))
        let route = try #require(table.route(forHost: "api.GitHub.com", port: 443, isTLS: true))
        #expect(route.route.host.description == "api.github.com")
    }

    // MARK: Host denial reasons

    @Test func hostNotAllowedReasons() throws {
        let table = try Self.table("routes: []")
        #expect(
            Self.decide(table, "GET", "/", host: "evil.example")
                == .deny(reason: "egress: host not allowed: evil.example")
        )
        #expect(
            Self.decide(table, "GET", "/", host: "Evil.Example", port: 8443)
                == .deny(reason: "egress: host not allowed: evil.example:8443")
        )
        #expect(
            Self.decide(table, "GET", "/", host: "evil.example", port: 80, isTLS: false)
                == .deny(reason: "egress: host not allowed: evil.example")
        )
        #expect(
            Self.decide(table, "GET", "/", host: "evil.example", port: 80, isTLS: true)
                == .deny(reason: "egress: host not allowed: evil.example:80")
        )
        #expect(
            Self.decide(table, "GET", "/", host: "evil.example", port: 443, isTLS: false)
                == .deny(reason: "egress: host not allowed: evil.example:443")
        )
        #expect(
            Self.decide(table, "GET", "/", host: "::1", port: 8443)
                == .deny(reason: "egress: host not allowed: [::1]:8443")
        )
        #expect(Self.decide(table, "GET", "/", host: "[::1]") == .deny(reason: "egress: host not allowed: [::1]"))
    }

    // MARK: Matches

    @Test func absentMatchesAllowsEverything() throws {
        let table = try Self.table("routes:\n  - host: api.github.com\n")
        #expect(Self.decide(table, "DELETE", "/anything/at/all?x=1") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "POST", "/") == .allow(routeIndex: 0))
    }

    @Test func emptyMatchesAllowsNothing() throws {
        let table = try Self.table(oneRoute("matches: []"))
        #expect(Self.decide(table, "GET", "/") == Self.noMatch("GET", "/"))
    }

    @Test func emptyEntryMatchesEverything() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{type: exact, value: /only}]\n  - {}"))
        #expect(Self.decide(table, "PATCH", "/x/y") == .allow(routeIndex: 0))
    }

    @Test func prefixPaths() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /repos/}]"))
        #expect(Self.decide(table, "GET", "/repos/") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/repos/a/b") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/repos") == Self.noMatch("GET", "/repos"))
        #expect(Self.decide(table, "GET", "/x/repos/a") == Self.noMatch("GET", "/x/repos/a"))
        #expect(Self.decide(table, "GET", "/REPOS/a") == Self.noMatch("GET", "/REPOS/a"))
    }

    @Test func exactPaths() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{type: exact, value: /user}]"))
        #expect(Self.decide(table, "GET", "/user") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/user/") == Self.noMatch("GET", "/user/"))
        #expect(Self.decide(table, "GET", "/users") == Self.noMatch("GET", "/users"))
    }

    @Test func regexPathsMustMatchTheWholePath() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{type: regex, value: \"/repos/[a-z]+/[a-z]+\"}]"))
        #expect(Self.decide(table, "GET", "/repos/apple/swift") == .allow(routeIndex: 0))
        #expect(
            Self.decide(table, "GET", "/repos/apple/swift/pulls") == Self.noMatch("GET", "/repos/apple/swift/pulls")
        )
        #expect(Self.decide(table, "GET", "/x/repos/apple/swift") == Self.noMatch("GET", "/x/repos/apple/swift"))
        #expect(Self.decide(table, "GET", "/repos/Apple/swift") == Self.noMatch("GET", "/repos/Apple/swift"))
    }

    @Test func queryIsIgnoredForPathMatchingAndLeftOutOfTheReason() throws {
        let table = try Self.table(
            oneRoute("matches:\n  - paths: [{type: exact, value: /search}, {type: regex, value: \"/r/[0-9]+\"}]")
        )
        #expect(Self.decide(table, "GET", "/search?q=1&x=/other") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/search?") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/r/12?page=2") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/other?secret=1") == Self.noMatch("GET", "/other"))
    }

    @Test func anyListedPathMatches() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /a/}, {type: exact, value: /b}]"))
        #expect(Self.decide(table, "GET", "/a/x") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/b") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/c") == Self.noMatch("GET", "/c"))
    }

    @Test func methods() throws {
        let table = try Self.table(oneRoute("matches:\n  - methods: [GET, head]"))
        #expect(Self.decide(table, "GET", "/x") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "HEAD", "/x") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "get", "/x") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "POST", "/x") == Self.noMatch("POST", "/x"))
        #expect(Self.decide(table, "post", "/x") == Self.noMatch("POST", "/x"))
    }

    @Test func pathsAndMethodsMustBothMatchWithinAnEntry() throws {
        let yaml = oneRoute(
            """
            matches:
              - paths: [{value: /read/}]
                methods: [GET]
              - paths: [{value: /write/}]
                methods: [POST]
            """
        )
        let table = try Self.table(yaml)
        #expect(Self.decide(table, "GET", "/read/1") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "POST", "/write/1") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "POST", "/read/1") == Self.noMatch("POST", "/read/1"))
        #expect(Self.decide(table, "GET", "/write/1") == Self.noMatch("GET", "/write/1"))
    }

    @Test func allListedHeadersMustMatch() throws {
        let yaml = oneRoute(
            """
            matches:
              - headers:
                  - {name: Accept, value: application/json}
                  - {name: x-api-version, type: prefix, value: "2022-"}
            """
        )
        let table = try Self.table(yaml)
        let both = [(name: "accept", value: "application/json"), (name: "X-API-Version", value: "2022-11-28")]
        #expect(Self.decide(table, "GET", "/", headers: both) == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/", headers: [both[0]]) == Self.noMatch("GET", "/"))
        #expect(Self.decide(table, "GET", "/", headers: [both[1]]) == Self.noMatch("GET", "/"))
        #expect(Self.decide(table, "GET", "/") == Self.noMatch("GET", "/"))
        let wrongValue = [(name: "accept", value: "text/html"), both[1]]
        #expect(Self.decide(table, "GET", "/", headers: wrongValue) == Self.noMatch("GET", "/"))
    }

    @Test func headerNamesAreCaseInsensitiveAndValuesAreNot() throws {
        let table = try Self.table(oneRoute("matches:\n  - headers: [{name: ACCEPT, value: application/json}]"))
        #expect(Self.decide(table, "GET", "/", headers: [("aCcEpT", "application/json")]) == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/", headers: [("accept", "Application/JSON")]) == Self.noMatch("GET", "/"))
    }

    @Test func headerNamesAreCaseInsensitiveForProgrammaticConfigsToo() {
        let config = RoutesConfig(routes: [
            Route(
                host: host("api.github.com"),
                matches: [MatchEntry(headers: [HeaderMatch(name: "X-Mixed", value: "v")])]
            )
        ])
        let table = RouteTable(config)
        #expect(Self.decide(table, "GET", "/", headers: [("x-mixed", "v")]) == .allow(routeIndex: 0))
    }

    @Test func anyValueOfARepeatedHeaderMaySatisfyIt() throws {
        let table = try Self.table(oneRoute("matches:\n  - headers: [{name: accept, value: application/json}]"))
        let headers = [(name: "accept", value: "text/html"), (name: "Accept", value: "application/json")]
        #expect(Self.decide(table, "GET", "/", headers: headers) == .allow(routeIndex: 0))
    }

    @Test func headerKinds() throws {
        let yaml = oneRoute(
            """
            matches:
              - headers: [{name: a, type: exact, value: "v1"}]
              - headers: [{name: b, type: prefix, value: "v1"}]
              - headers: [{name: c, type: regex, value: "v[0-9]"}]
            """
        )
        let table = try Self.table(yaml)
        #expect(Self.decide(table, "GET", "/", headers: [("a", "v1")]) == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/", headers: [("a", "v12")]) == Self.noMatch("GET", "/"))
        #expect(Self.decide(table, "GET", "/", headers: [("b", "v12")]) == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/", headers: [("b", "v2")]) == Self.noMatch("GET", "/"))
        #expect(Self.decide(table, "GET", "/", headers: [("c", "v7")]) == .allow(routeIndex: 0))
        // Whole match: a regex matching only part of the value does not count.
        #expect(Self.decide(table, "GET", "/", headers: [("c", "v77")]) == Self.noMatch("GET", "/"))
        #expect(Self.decide(table, "GET", "/", headers: [("c", "xv7")]) == Self.noMatch("GET", "/"))
    }

    @Test func regexThatDoesNotCompileNeverMatchesAndNeverCrashes() {
        // Only reachable with a hand-built config: parsing rejects such a regex.
        let config = RoutesConfig(routes: [
            Route(
                host: host("api.github.com"),
                matches: [
                    MatchEntry(paths: [PathMatch(kind: .regex, value: "(")]),
                    MatchEntry(headers: [HeaderMatch(name: "a", kind: .regex, value: "[")]),
                ]
            )
        ])
        let table = RouteTable(config)
        #expect(Self.decide(table, "GET", "(") == Self.noMatch("GET", "("))
        #expect(Self.decide(table, "GET", "/", headers: [("a", "[")]) == Self.noMatch("GET", "/"))
    }

    @Test func decisionNamesTheSelectedRoute() throws {
        let table = try Self.table("routes:\n  - host: a.example\n  - host: b.example\n  - host: \"*.example\"\n")
        #expect(Self.decide(table, "GET", "/", host: "b.example") == .allow(routeIndex: 1))
        #expect(Self.decide(table, "GET", "/", host: "c.example") == .allow(routeIndex: 2))
    }

    @Test func noMatchReasonIncludesANonDefaultPort() throws {
        let table = try Self.table("routes:\n  - host: \"a.example:8443\"\n    matches: []\n")
        #expect(
            Self.decide(table, "GET", "/x?y", host: "a.example", port: 8443)
                == .deny(reason: "egress: no route match for GET /x on a.example:8443")
        )
    }

    // MARK: Dot segments

    @Test(arguments: [
        "/repos/../admin", "/repos/./x", "/repos/..", "/repos/.", "/..", "/.", "..", "/repos/%2e%2e/admin",
        "/repos/%2E%2E/admin", "/repos/%2e%2E/admin", "/repos/.%2e/admin", "/repos/%2e/x", "/repos/%2E",
        "/repos/..%2fadmin",
        "/repos/..%2Fadmin", "/repos/..\\admin", "/repos\\..\\admin", "/repos/..%5cadmin", "/repos/%2e%2e%2fadmin",
        "/repos/../admin?x=1",
    ])
    func dotSegmentsAreDenied(target: String) throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /repos/}]"))
        #expect(Self.decide(table, "GET", target) == .deny(reason: "egress: path with dot segments not allowed"))
        // Even where every path is allowed.
        let open = try Self.table("routes:\n  - host: api.github.com\n")
        #expect(Self.decide(open, "GET", target) == .deny(reason: "egress: path with dot segments not allowed"))
    }

    @Test(arguments: [
        "/repos/...", "/repos/..x", "/repos/x..", "/repos/.well-known", "/repos/a.b", "/repos/%2e%2e%2e",
        "/repos/x?path=../..", "/repos/%252e%252e/x", "/repos/%2", "/repos/%zz",
    ])
    func dotsThatAreNotSegmentsAreFine(target: String) throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /repos/}]"))
        #expect(Self.decide(table, "GET", target) == .allow(routeIndex: 0))
    }

    // MARK: Path parameters

    @Test(arguments: ["/repos/..;/admin", "/repos/..;x=1/admin", "/repos/.;/x", "/repos/..%3b/admin", "/repos/..%3B/admin"])
    func dotSegmentsBehindParametersAreDenied(target: String) throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /repos/}]"))
        #expect(Self.decide(table, "GET", target) == .deny(reason: "egress: path with dot segments not allowed"))
    }

    @Test func pathsAreJudgedWithoutTheirParameters() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /repos/}, {type: exact, value: /user}]"))
        #expect(Self.decide(table, "GET", "/user;jsessionid=1") == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/repos;x/a") == .allow(routeIndex: 0))
        // A parameter cannot make a forbidden path look like an allowed one.
        #expect(Self.decide(table, "GET", "/admin;/repos/") == .deny(reason: "egress: no route match for GET /admin/repos/ on api.github.com"))
    }

    @Test func aPushBehindAParameterIsStillAPush() throws {
        let table = try Self.table("routes:\n  - host: api.github.com\n    git: {fetch: true}\n")
        #expect(Self.decide(table, "POST", "/o/r.git/git-receive-pack;x") == .deny(reason: "egress: git push is not allowed"))
        #expect(Self.decide(table, "POST", "/o/r.git/git-receive-pack%3bx") == .deny(reason: "egress: git push is not allowed"))
    }

    @Test func hostCheckComesBeforeTheDotSegmentCheck() throws {
        let table = try Self.table("routes: []")
        #expect(
            Self.decide(table, "GET", "/../x", host: "evil.example")
                == .deny(reason: "egress: host not allowed: evil.example")
        )
    }

    // MARK: Git

    static let fetchRefs = (method: "GET", target: "/o/r.git/info/refs?service=git-upload-pack")
    static let fetchPack = (method: "POST", target: "/o/r.git/git-upload-pack")
    static let pushRefs = (method: "GET", target: "/o/r.git/info/refs?service=git-receive-pack")
    static let pushPack = (method: "POST", target: "/o/r.git/git-receive-pack")

    @Test func gitFetchIsAllowedWithGitFetchOnly() throws {
        let table = try Self.table("routes:\n  - host: github.com\n    matches: []\n    git: {fetch: true}\n")
        #expect(
            Self.decide(table, Self.fetchRefs.method, Self.fetchRefs.target, host: "github.com")
                == .allow(routeIndex: 0)
        )
        #expect(
            Self.decide(table, Self.fetchPack.method, Self.fetchPack.target, host: "github.com")
                == .allow(routeIndex: 0)
        )
        // Not fetch: the dumb protocol, other services, wrong methods.
        #expect(
            Self.decide(table, "GET", "/o/r.git/info/refs", host: "github.com")
                == Self.noMatch("GET", "/o/r.git/info/refs", on: "github.com")
        )
        #expect(
            Self.decide(table, "POST", "/o/r.git/info/refs?service=git-upload-pack", host: "github.com")
                == Self.noMatch("POST", "/o/r.git/info/refs", on: "github.com")
        )
        #expect(
            Self.decide(table, "GET", "/o/r.git/git-upload-pack", host: "github.com")
                == Self.noMatch("GET", "/o/r.git/git-upload-pack", on: "github.com")
        )
        #expect(
            Self.decide(table, "GET", "/o/r.git/info/refs?service=git-upload-archive", host: "github.com")
                == Self.noMatch("GET", "/o/r.git/info/refs", on: "github.com")
        )
        #expect(
            Self.decide(table, "GET", "/api", host: "github.com") == Self.noMatch("GET", "/api", on: "github.com")
        )
    }

    @Test func gitFetchIsDeniedWithoutGitFetch() throws {
        let table = try Self.table("routes:\n  - host: github.com\n    matches: []\n")
        #expect(
            Self.decide(table, Self.fetchRefs.method, Self.fetchRefs.target, host: "github.com")
                == Self.noMatch("GET", "/o/r.git/info/refs", on: "github.com")
        )
        #expect(
            Self.decide(table, Self.fetchPack.method, Self.fetchPack.target, host: "github.com")
                == Self.noMatch("POST", "/o/r.git/git-upload-pack", on: "github.com")
        )
    }

    @Test func gitFetchAddsToMatches() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /api/}]\ngit: {fetch: true}"))
        #expect(Self.decide(table, "GET", "/api/x") == .allow(routeIndex: 0))
        #expect(Self.decide(table, Self.fetchPack.method, Self.fetchPack.target) == .allow(routeIndex: 0))
        #expect(Self.decide(table, "GET", "/other") == Self.noMatch("GET", "/other"))
    }

    @Test func pushIsDeniedWithGitFetchAlone() throws {
        let table = try Self.table("routes:\n  - host: github.com\n    matches: []\n    git: {fetch: true}\n")
        #expect(Self.decide(table, Self.pushRefs.method, Self.pushRefs.target, host: "github.com") == Self.pushDenied)
        #expect(Self.decide(table, Self.pushPack.method, Self.pushPack.target, host: "github.com") == Self.pushDenied)
    }

    @Test func pushIsDeniedWhenMatchesIsAbsent() throws {
        for yaml in ["routes:\n  - host: github.com\n", "routes:\n  - host: github.com\n    git: {fetch: true}\n"] {
            let table = try Self.table(yaml)
            #expect(
                Self.decide(table, Self.pushRefs.method, Self.pushRefs.target, host: "github.com") == Self.pushDenied
            )
            #expect(
                Self.decide(table, Self.pushPack.method, Self.pushPack.target, host: "github.com") == Self.pushDenied
            )
            // Fetch and everything else stay allowed.
            #expect(
                Self.decide(table, Self.fetchPack.method, Self.fetchPack.target, host: "github.com")
                    == .allow(routeIndex: 0)
            )
            #expect(Self.decide(table, "POST", "/o/r.git/other", host: "github.com") == .allow(routeIndex: 0))
        }
    }

    @Test func pushIsDeniedByEntriesWithoutPaths() throws {
        let yaml = oneRoute("matches:\n  - {}\n  - methods: [GET, POST]\n  - headers: [{name: a, value: b}]")
        let table = try Self.table(yaml)
        #expect(Self.decide(table, Self.pushRefs.method, Self.pushRefs.target) == Self.pushDenied)
        #expect(
            Self.decide(table, Self.pushPack.method, Self.pushPack.target, headers: [("a", "b")]) == Self.pushDenied
        )
        #expect(Self.decide(table, "POST", "/anything") == .allow(routeIndex: 0))
    }

    @Test func pushIsAllowedByAnExplicitPathEntry() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /o/r.git/}]"))
        #expect(Self.decide(table, Self.pushRefs.method, Self.pushRefs.target) == .allow(routeIndex: 0))
        #expect(Self.decide(table, Self.pushPack.method, Self.pushPack.target) == .allow(routeIndex: 0))
        // Only for the repository the paths name.
        #expect(Self.decide(table, "POST", "/o/other.git/git-receive-pack") == Self.pushDenied)
    }

    @Test func pushNeedsTheWholeEntryToMatch() throws {
        let table = try Self.table(oneRoute("matches:\n  - paths: [{value: /o/r.git/}]\n    methods: [GET]"))
        #expect(Self.decide(table, Self.pushRefs.method, Self.pushRefs.target) == .allow(routeIndex: 0))
        #expect(Self.decide(table, Self.pushPack.method, Self.pushPack.target) == Self.pushDenied)
    }

    @Test(arguments: [
        ("POST", "/o/r.git/git-receive-pack/"),
        ("POST", "/o/r.git/GIT-RECEIVE-PACK"),
        ("POST", "/o/r.git/git-receive%2Dpack"),
        ("POST", "/o/r.git/git-receive-pack?x=1"),
        ("post", "/o/r.git/git-receive-pack"),
        ("PUT", "/o/r.git/git-receive-pack"),
        ("GET", "/o/r.git/info/refs?service=git-receive-p%61ck"),
        ("GET", "/o/r.git/info/refs?foo=1&service=git-receive-pack"),
        ("GET", "/o/r.git/info/refs?service=git-upload-pack&service=git-receive-pack"),
        ("GET", "/o/r.git/info/refs?service=GIT-RECEIVE-PACK"),
        ("GET", "/o/r.git/info/refs/?service=git-receive-pack"),
        ("get", "/o/r.git/info/refs?service=git-receive-pack"),
    ])
    func disguisedPushesAreStillPushes(method: String, target: String) throws {
        let table = try Self.table(oneRoute("matches:\n  - {}\ngit: {fetch: true}"))
        #expect(Self.decide(table, method, target) == Self.pushDenied)
    }

    @Test func requestTargetParsing() {
        let target = RequestTarget("/a%20b/c?x=1&y=%2F")
        #expect(target.path == "/a%20b/c")
        #expect(target.query == "x=1&y=%2F")
        #expect(target.decodedPath == "/a b/c")
        #expect(target.queryValues(named: "y") == ["/"])
        #expect(target.queryValues(named: "x") == ["1"])
        #expect(target.queryValues(named: "z") == [])
        #expect(RequestTarget("/p").query == nil)
        #expect(RequestTarget("/p?a+b=c+d").queryValues(named: "a b") == ["c d"])
        #expect(RequestTarget.percentDecoded("%41%4a%4A%zz%4") == "AJJ%zz%4")
    }

    // MARK: Concurrency

    @Test func tableIsSharedAcrossTasks() async throws {
        let table = try Self.table(
            oneRoute(
                "matches:\n  - paths: [{type: regex, value: \"/r/[0-9]+\"}]\n    headers: [{name: h, type: regex, value: \"v.+\"}]"
            )
        )
        let results = await withTaskGroup(of: (Int, RouteDecision).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let target = index.isMultiple(of: 2) ? "/r/\(index)" : "/r/x\(index)"
                    return (index, Self.decide(table, "GET", target, headers: [("h", "v\(index)")]))
                }
            }
            var results: [Int: RouteDecision] = [:]
            for await (index, decision) in group { results[index] = decision }
            return results
        }
        #expect(results.count == 200)
        for (index, decision) in results {
            let expected =
                index.isMultiple(of: 2) ? RouteDecision.allow(routeIndex: 0) : Self.noMatch("GET", "/r/x\(index)")
            #expect(decision == expected)
        }
    }
}
