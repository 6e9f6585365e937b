import Foundation
import Testing

@testable import EgressRoutes

@Suite struct RoutesConfigParsingTests {
    /// The example of the README's "routes.yaml", verbatim.
    static let specExample = """
        log: 1                      # optional; 0 off (default), 1 blocks, 2 full
        routes:
          - host: "api.github.com"  # exact, case-insensitive; "*.example.com" matches
                                    # any subdomain (not the apex); "host:port" pins a
                                    # port, a bare host means 443 (https) and 80 (http)
            auth_scheme: "token"    # with token_env; see Auth injection
            token_env: "EGRESS_TOKEN_0"
            matches:                # optional; absent = every request to the host
              - paths:
                  - value: "/repos/"          # type: prefix (default) | exact | regex
                  - type: "exact"
                    value: "/user"
                methods: ["GET", "POST"]      # optional; absent = any method
                headers:                      # optional; all listed must match
                  - name: "accept"
                    value: "application/json" # type: exact (default) | prefix | regex
              - {}                            # an empty entry matches everything
            git:
              fetch: true           # allow git smart-HTTP fetch (upload-pack)
            dlp:
              outbound_detectors: ["github_token_classic", "aws_access_key_id"] # or false
              inbound_detectors: false          # or a list
              outbound_on_match: "redact"       # block | redact | supervise | warn
              inbound_on_match: "warn"          # warn | block

        """

    @Test func acceptsTheSpecExampleVerbatim() throws {
        let config = try RoutesConfig.parse(yaml: Self.specExample, file: "routes.yaml")
        let expected = RoutesConfig(
            log: .blocks,
            routes: [
                Route(
                    host: host("api.github.com"),
                    auth: AuthInjection(scheme: .token, tokenEnv: "EGRESS_TOKEN_0"),
                    matches: [
                        MatchEntry(
                            paths: [
                                PathMatch(kind: .prefix, value: "/repos/"), PathMatch(kind: .exact, value: "/user"),
                            ],
                            methods: ["GET", "POST"],
                            headers: [HeaderMatch(name: "accept", kind: .exact, value: "application/json")]
                        ),
                        MatchEntry(),
                    ],
                    gitFetch: true,
                    dlp: DLPPolicy(
                        outboundDetectors: .only(["github_token_classic", "aws_access_key_id"]),
                        inboundDetectors: .off,
                        outboundOnMatch: .redact,
                        inboundOnMatch: .warn
                    )
                )
            ]
        )
        #expect(config == expected)
    }

    @Test func acceptsTheSpecExampleWithAKnownDetectorCatalog() throws {
        let catalog: Set<String> = ["github_token_classic", "aws_access_key_id", "prompt_injection"]
        let config = try RoutesConfig.parse(yaml: Self.specExample, file: "routes.yaml", knownDetectors: catalog)
        #expect(config.routes.first?.dlp.outboundDetectors == .only(["github_token_classic", "aws_access_key_id"]))
    }

    @Test func minimalDocuments() throws {
        #expect(try RoutesConfig.parse(yaml: "routes: []\n", file: "f") == RoutesConfig(log: .off, routes: []))
        #expect(try RoutesConfig.parse(yaml: "log: 0\nroutes: []", file: "f") == RoutesConfig(log: .off, routes: []))
        #expect(try RoutesConfig.parse(yaml: "log: 2\nroutes: []", file: "f").log == .full)
        let bare = try RoutesConfig.parse(yaml: "routes:\n  - host: example.com\n", file: "f")
        #expect(bare.routes == [Route(host: host("example.com"))])
        #expect(bare.routes[0].matches == nil)
        #expect(bare.routes[0].auth == nil)
        #expect(bare.routes[0].gitFetch == false)
        #expect(bare.routes[0].dlp == DLPPolicy())
    }

    @Test func defaultsWhenKeysAreAbsent() throws {
        let route = try #require(try RoutesConfig.parse(yaml: oneRoute("dlp: {}\ngit: {}"), file: "f").routes.first)
        #expect(route.dlp.outboundDetectors == .defaultSet)
        #expect(route.dlp.inboundDetectors == .defaultSet)
        #expect(route.dlp.outboundOnMatch == nil)
        #expect(route.dlp.inboundOnMatch == nil)
        #expect(route.dlp.effectiveOutboundOnMatch == .supervise)
        #expect(route.dlp.effectiveInboundOnMatch == .warn)
        #expect(route.gitFetch == false)
    }

    @Test func normalisesValues() throws {
        let yaml = """
            routes:
              - host: "API.GitHub.COM"
                auth_scheme: Bearer
                token_env: My_Token_1
                matches:
                  - methods: [get, Post, m-search]
                    headers:
                      - name: Accept
                        value: Application/JSON
              - host: "*.Example.COM:8443"
                auth_scheme: X-API-KEY
                token_env: _T
                matches: []
                dlp:
                  outbound_detectors: []
                  inbound_detectors: [prompt_injection]
              - host: "[0:0:0:0:0:0:0:1]"
                git: {fetch: false}
            """
        let config = try RoutesConfig.parse(yaml: yaml, file: "routes.yaml")
        #expect(config.routes.count == 3)
        #expect(config.routes[0].host.description == "api.github.com")
        #expect(config.routes[0].auth == AuthInjection(scheme: .bearer, tokenEnv: "My_Token_1"))
        #expect(config.routes[0].matches?.first?.methods == ["GET", "POST", "M-SEARCH"])
        // Header names are lowercased; values keep their case.
        #expect(config.routes[0].matches?.first?.headers == [HeaderMatch(name: "accept", value: "Application/JSON")])
        #expect(config.routes[1].host == host("*.example.com:8443"))
        #expect(config.routes[1].auth?.scheme == .xApiKey)
        #expect(config.routes[1].matches == [])
        #expect(config.routes[1].dlp.outboundDetectors == .off)
        #expect(config.routes[1].dlp.inboundDetectors == .only(["prompt_injection"]))
        #expect(config.routes[2].host.description == "[::1]")
        #expect(config.routes[2].gitFetch == false)
    }

    @Test func quotedAndPlainStringsAreStringsButQuotedNumbersStayStrings() throws {
        let yaml = oneRoute(
            """
            matches:
              - headers:
                  - {name: x-a, value: "1"}
                  - {name: x-b, value: 'true'}
                  - {name: x-c, value: plain text}
                  - {name: x-d, value: !!str 2}
                  - {name: x-e, value: ""}
            """
        )
        let headers = try RoutesConfig.parse(yaml: yaml, file: "f").routes[0].matches?[0].headers
        #expect(headers?.map(\.value) == ["1", "true", "plain text", "2", ""])
    }

    @Test func booleanSpellings() throws {
        for spelling in ["true", "True", "TRUE"] {
            let config = try RoutesConfig.parse(yaml: oneRoute("git: {fetch: \(spelling)}"), file: "f")
            #expect(config.routes[0].gitFetch, "\(spelling)")
        }
        for spelling in ["false", "False", "FALSE"] {
            let config = try RoutesConfig.parse(yaml: oneRoute("git: {fetch: \(spelling)}"), file: "f")
            #expect(!config.routes[0].gitFetch, "\(spelling)")
        }
    }

    @Test func acceptsAByteOrderMarkAndCRLFLineEnds() throws {
        let yaml = "\u{FEFF}log: 2\r\nroutes:\r\n  - host: a.example\r\n"
        #expect(
            try RoutesConfig.parse(yaml: yaml, file: "f")
                == RoutesConfig(log: .full, routes: [Route(host: host("a.example"))])
        )
    }

    @Test func aliasesAreResolved() throws {
        let yaml = """
            routes:
              - host: a.example
                matches: &shared
                  - paths: [{value: /x}]
              - host: b.example
                matches: *shared
            """
        let config = try RoutesConfig.parse(yaml: yaml, file: "f")
        #expect(config.routes[1].matches == [MatchEntry(paths: [PathMatch(value: "/x")])])
        #expect(config.routes[0].matches == config.routes[1].matches)
    }

    @Test func pathAndHeaderKinds() throws {
        let yaml = oneRoute(
            """
            matches:
              - paths:
                  - {value: /p}
                  - {type: prefix, value: /q}
                  - {type: exact, value: /e}
                  - {type: regex, value: "/r/[0-9]+"}
                headers:
                  - {name: a, value: x}
                  - {name: b, type: exact, value: y}
                  - {name: c, type: prefix, value: z}
                  - {name: d, type: regex, value: "v[0-9]+"}
            """
        )
        let entry = try #require(try RoutesConfig.parse(yaml: yaml, file: "f").routes[0].matches?.first)
        #expect(entry.paths?.map(\.kind) == [.prefix, .prefix, .exact, .regex])
        #expect(entry.paths?.map(\.value) == ["/p", "/q", "/e", "/r/[0-9]+"])
        #expect(entry.headers?.map(\.kind) == [.exact, .exact, .prefix, .regex])
    }

    @Test func loadReadsAFile() throws {
        let path = "/tmp/egress-routes-test-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try "log: 2\nroutes: []\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try RoutesConfig.load(path: path) == RoutesConfig(log: .full, routes: []))
    }

    @Test func loadErrorsNameThePath() throws {
        let path = "/nonexistent-dir/routes.yaml"
        do {
            _ = try RoutesConfig.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == path)
            #expect(error.keyPath == nil)
            #expect(error.description == "\(path): cannot read the file: No such file or directory")
        }
        do {
            _ = try RoutesConfig.load(path: "/tmp")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/tmp: cannot read the file: Is a directory")
        }
    }

    @Test func loadRejectsInvalidUTF8() throws {
        let path = "/tmp/egress-routes-test-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try Data([0x72, 0x6F, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try RoutesConfig.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(path): expected UTF-8 text, got invalid bytes")
        }
    }

    @Test func loadValidatesDetectorsWhenACatalogIsGiven() throws {
        let path = "/tmp/egress-routes-test-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try oneRoute("dlp: {inbound_detectors: [x]}").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: RoutesConfigError.self) { try RoutesConfig.load(path: path, knownDetectors: ["y"]) }
        #expect(try RoutesConfig.load(path: path, knownDetectors: ["x"]).routes.count == 1)
    }
}
