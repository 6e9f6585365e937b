import Testing
import Yams

@testable import EgressRoutes

@Suite struct RoutesConfigRenderingTests {
    @Test func emptyConfig() {
        #expect(RoutesConfig().render() == "routes: []\n")
    }

    @Test func logIsOmittedOnlyWhenOff() {
        #expect(!RoutesConfig(log: .off).render().contains("log"))
        #expect(RoutesConfig(log: .blocks).render() == "log: 1\nroutes: []\n")
        #expect(RoutesConfig(log: .full).render() == "log: 2\nroutes: []\n")
    }

    @Test func rendersTheSpecExampleReadably() throws {
        let config = try RoutesConfig.parse(yaml: RoutesConfigParsingTests.specExample, file: "routes.yaml")
        let expected = """
            log: 1
            routes:
            - host: "api.github.com"
              auth_scheme: "token"
              token_env: "EGRESS_TOKEN_0"
              matches:
              - paths:
                - value: "/repos/"
                - type: "exact"
                  value: "/user"
                methods: ["GET", "POST"]
                headers:
                - name: "accept"
                  value: "application/json"
              - {}
              git:
                fetch: true
              dlp:
                outbound_detectors: ["github_token_classic", "aws_access_key_id"]
                inbound_detectors: false
                outbound_on_match: "redact"
                inbound_on_match: "warn"

            """
        #expect(config.render() == expected)
        #expect(try RoutesConfig.parse(yaml: config.render(), file: "r") == config)
    }

    @Test func rendersTheInboundThreshold() throws {
        let policy = DLPPolicy(inboundOnMatch: .block, inboundThreshold: .high)
        let config = RoutesConfig(routes: [Route(host: host("a.example"), dlp: policy)])
        #expect(config.render().contains("inbound_threshold: \"high\""))
        let parsed = try RoutesConfig.parse(yaml: config.render(), file: "r")
        #expect(parsed == config)
        #expect(parsed.routes[0].dlp.effectiveInboundThreshold == .high)
        #expect(DLPPolicy().effectiveInboundThreshold == .medium)
    }

    @Test func omitsDefaults() {
        let config = RoutesConfig(routes: [Route(host: host("a.example"))])
        #expect(config.render() == "routes:\n- host: \"a.example\"\n")
    }

    @Test func emptyMatchesIsKeptDistinctFromAbsent() throws {
        let config = RoutesConfig(routes: [Route(host: host("a.example"), matches: [])])
        #expect(config.render().contains("matches: []"))
        #expect(try RoutesConfig.parse(yaml: config.render(), file: "r").routes[0].matches == [])
    }

    @Test func offDetectorsAreRenderedAsFalse() throws {
        let policy = DLPPolicy(outboundDetectors: .off, inboundDetectors: .only(["a"]))
        let config = RoutesConfig(routes: [Route(host: host("a.example"), dlp: policy)])
        let text = config.render()
        #expect(text.contains("outbound_detectors: false"))
        #expect(text.contains("inbound_detectors: [\"a\"]"))
        #expect(!text.contains("on_match"))
    }

    @Test func stringsThatLookLikeOtherTypesAreQuoted() throws {
        let headers = ["1", "true", "null", "1.0", ": x", "#", " lead", ""].map { HeaderMatch(name: "h", value: $0) }
        let config = RoutesConfig(routes: [Route(host: host("a.example"), matches: [MatchEntry(headers: headers)])])
        let text = config.render()
        for header in headers {
            #expect(text.contains("value: \"\(header.value)\""), "\(header.value)")
        }
        #expect(try RoutesConfig.parse(yaml: text, file: "r") == config)
    }

    @Test func ipv6AndPinnedHostsRoundTrip() throws {
        let config = RoutesConfig(routes: [
            Route(host: host("[::1]:8443")), Route(host: host("*.example.com:8443")),
            Route(host: host("[2001:db8::1]")),
        ])
        #expect(config.render().contains("host: \"[::1]:8443\""))
        #expect(try RoutesConfig.parse(yaml: config.render(), file: "r") == config)
    }

    /// `parse(render(x)) == x` over a few hundred generated configs covering every field.
    @Test func roundTripOverGeneratedConfigs() throws {
        var generator = RoutesConfigGenerator(seed: 0x5EED_E6E5)
        var coverage = Coverage()
        for index in 0..<400 {
            let config = generator.config()
            coverage.record(config)
            let text = config.render()
            let parsed: RoutesConfig
            do {
                parsed = try RoutesConfig.parse(yaml: text, file: "generated-\(index).yaml")
            } catch {
                Issue.record("config \(index) did not parse back: \(error)\n\(text)")
                continue
            }
            #expect(parsed == config, "config \(index):\n\(text)")
            // Rendering is deterministic and stable.
            #expect(parsed.render() == text)
        }
        // The generator really exercised every field.
        #expect(coverage.missing.isEmpty, "never generated: \(coverage.missing.sorted())")
    }

    /// What the generated configs covered, so the round-trip test cannot silently shrink.
    struct Coverage {
        var seen: Set<String> = []

        static let all: Set<String> = [
            "log.0", "log.1", "log.2", "routes.empty", "host.wildcard", "host.port", "host.ipv6", "host.exact", "auth",
            "auth.bearer", "auth.token", "auth.basic", "auth.x-api-key", "matches.absent", "matches.empty",
            "entry.empty", "path.prefix", "path.exact", "path.regex", "methods", "header.exact", "header.prefix",
            "header.regex", "header.emptyValue", "git.fetch", "dlp.default", "dlp.off", "dlp.only",
            "on_match.outbound", "on_match.inbound", "value.multiline", "value.unicode", "value.looksLikeInt",
            "value.looksLikeBool",
        ]

        var missing: Set<String> { Self.all.subtracting(seen) }

        mutating func record(_ config: RoutesConfig) {
            seen.insert("log.\(config.log.rawValue)")
            if config.routes.isEmpty { seen.insert("routes.empty") }
            for route in config.routes {
                if route.host.isWildcard { seen.insert("host.wildcard") } else { seen.insert("host.exact") }
                if route.host.port != nil { seen.insert("host.port") }
                if route.host.host.contains(":") { seen.insert("host.ipv6") }
                if let auth = route.auth { seen.formUnion(["auth", "auth.\(auth.scheme.rawValue)"]) }
                if let matches = route.matches {
                    if matches.isEmpty { seen.insert("matches.empty") }
                    for entry in matches {
                        if entry == MatchEntry() { seen.insert("entry.empty") }
                        for path in entry.paths ?? [] {
                            seen.insert("path.\(path.kind.rawValue)")
                            value(path.value)
                        }
                        if entry.methods != nil { seen.insert("methods") }
                        for header in entry.headers ?? [] {
                            seen.insert("header.\(header.kind.rawValue)")
                            if header.value.isEmpty { seen.insert("header.emptyValue") }
                            value(header.value)
                        }
                    }
                } else {
                    seen.insert("matches.absent")
                }
                if route.gitFetch { seen.insert("git.fetch") }
                for selection in [route.dlp.outboundDetectors, route.dlp.inboundDetectors] {
                    switch selection {
                    case .defaultSet: seen.insert("dlp.default")
                    case .off: seen.insert("dlp.off")
                    case .only: seen.insert("dlp.only")
                    }
                }
                if route.dlp.outboundOnMatch != nil { seen.insert("on_match.outbound") }
                if route.dlp.inboundOnMatch != nil { seen.insert("on_match.inbound") }
            }
        }

        private mutating func value(_ text: String) {
            if text.contains("\n") { seen.insert("value.multiline") }
            if text.unicodeScalars.contains(where: { !$0.isASCII }) { seen.insert("value.unicode") }
            if ["1", "/1"].contains(text) { seen.insert("value.looksLikeInt") }
            if ["true", "/true", "false", "/false"].contains(text) { seen.insert("value.looksLikeBool") }
        }
    }

    @Test func renderedTextIsPlainYAMLWithTypedScalars() throws {
        let config = RoutesConfig(log: .blocks, routes: [Route(host: host("a.example"), gitFetch: true)])
        let node = try #require(try Yams.compose(yaml: config.render()))
        #expect(node["log"]?.int == 1)
        #expect(node["routes"]?[0]?["git"]?["fetch"]?.bool == true)
        #expect(node["routes"]?[0]?["host"]?.string == "a.example")
    }
}
