import EgressRoutes
import Testing

@testable import Planner

/// Merging providers and manifest routes, DLP defaults and token slots (the seed's `egress.py` rules).
@Suite struct EgressPlanTests {
    @Test func providerRouteGetsTheRedactDefault() throws {
        let plan = try EgressPlan(manifest: EgressManifest(), providers: [.anthropic])
        #expect(plan.routes.count == 1)
        #expect(plan.routes[0].route.dlp.outboundOnMatch == .redact)
        #expect(plan.routes[0].route.dlp.inboundOnMatch == nil)
        #expect(plan.routes[0].origin == .provider("anthropic"))
        // Only the policy is filled in; the rest is the provider's route.
        var expected = Provider.anthropic.route.route(tokenSlot: "EGRESS_TOKEN_0")
        expected.dlp.outboundOnMatch = .redact
        #expect(plan.routes[0].route == expected)
    }

    @Test(
        "an explicit provider policy is preserved",
        arguments: OutboundAction.allCases
    )
    func explicitProviderPolicyIsPreserved(action: OutboundAction) throws {
        var route = Provider.openai.route
        route.dlp = DLPPolicy(outboundDetectors: .off, outboundOnMatch: action, inboundOnMatch: .block)
        let provider = Provider(name: "strict-openai", route: route)
        let plan = try EgressPlan(manifest: EgressManifest(), providers: [provider])
        #expect(plan.routes[0].route.dlp == route.dlp)
    }

    @Test func manifestRoutesAreUnaffected() throws {
        let manifest = try parseManifest(
            """
            egress:
              routes:
                - {host: api.github.com, auth_scheme: token, token_ref: GITHUB_TOKEN}
                - {host: pypi.org, dlp: {outbound_on_match: block}}
                - {host: example.com, dlp: {inbound_detectors: false}}
            """
        )
        let plan = try EgressPlan(manifest: manifest, providers: [.anthropic, .codex])
        let fromManifest = Array(plan.routes.dropFirst(2))
        #expect(fromManifest.map(\.origin) == [.manifest(index: 0), .manifest(index: 1), .manifest(index: 2)])
        #expect(fromManifest[0].route.dlp.outboundOnMatch == nil)
        #expect(fromManifest[0].route.dlp.effectiveOutboundOnMatch == .supervise)
        #expect(fromManifest[1].route.dlp.outboundOnMatch == .block)
        #expect(fromManifest[2].route.dlp == DLPPolicy(inboundDetectors: .off))
        #expect(plan.routesConfig.render().components(separatedBy: "outbound_on_match").count == 4)
    }

    @Test func providersComeFirstAndTakeOverTheirHosts() throws {
        let manifest = try parseManifest(
            """
            egress:
              log: 2
              routes:
                - {host: api.anthropic.com, auth_scheme: bearer, token_ref: MY_KEY, dlp: {outbound_on_match: warn}}
                - {host: api.github.com}
                - {host: "api.anthropic.com:443"}
                - {host: "api.anthropic.com:8443"}
                - {host: "*.anthropic.com"}
                - {host: chatgpt.com}
            """
        )
        let plan = try EgressPlan(manifest: manifest, providers: [.codex, .anthropic])
        #expect(plan.log == .full)
        #expect(
            plan.routes.map(\.route.host.description) == [
                "chatgpt.com", "api.anthropic.com", "api.github.com", "api.anthropic.com:8443", "*.anthropic.com",
            ]
        )
        #expect(
            plan.droppedRoutes == [
                DroppedRoute(manifestIndex: 0, host: host("api.anthropic.com"), provider: "anthropic"),
                DroppedRoute(manifestIndex: 2, host: host("api.anthropic.com:443"), provider: "anthropic"),
                DroppedRoute(manifestIndex: 5, host: host("chatgpt.com"), provider: "codex"),
            ]
        )
        // The provider's route is the one written, not the dropped manifest route's auth or policy.
        #expect(plan.routes[1].route.auth == AuthInjection(scheme: .xApiKey, tokenEnv: "EGRESS_TOKEN_1"))
        #expect(plan.routes[1].route.dlp.outboundOnMatch == .redact)
        #expect(!plan.tokenSlots.contains { $0.tokenRef == "MY_KEY" })
    }

    @Test func noProvidersMeansTheManifestAsWritten() throws {
        let manifest = try parseManifest(ManifestParsingTests.example)
        let plan = try EgressPlan(manifest: manifest, providers: [])
        #expect(
            plan.routes.map(\.route)
                == manifest.routes.map { $0.route(tokenSlot: $0.auth.map { _ in "EGRESS_TOKEN_0" }) }
        )
        #expect(plan.routes.map(\.roles) == [[], ["reader", "1"]])
        #expect(plan.droppedRoutes.isEmpty)
    }

    @Test func tokenSlotsInOrderOfFirstUseSharedByReference() throws {
        let manifest = makeManifest([
            ("a.example", "TOKEN_A"), ("b.example", nil), ("c.example", "TOKEN_B"), ("d.example", "TOKEN_A"),
            ("e.example", "ANTHROPIC_API_KEY"), ("f.example", "EGRESS_TOKEN_0"),
        ])
        let plan = try EgressPlan(manifest: manifest, providers: [.anthropic])
        #expect(
            plan.routes.map(\.route.auth?.tokenEnv) == [
                "EGRESS_TOKEN_0", "EGRESS_TOKEN_1", nil, "EGRESS_TOKEN_2", "EGRESS_TOKEN_1", "EGRESS_TOKEN_0",
                "EGRESS_TOKEN_3",
            ]
        )
        #expect(
            plan.tokenSlots.map { "\($0.slot)=\($0.tokenRef)" } == [
                "EGRESS_TOKEN_0=ANTHROPIC_API_KEY", "EGRESS_TOKEN_1=TOKEN_A", "EGRESS_TOKEN_2=TOKEN_B",
                "EGRESS_TOKEN_3=EGRESS_TOKEN_0",
            ]
        )
        #expect(
            plan.tokenSlots[1].users == [
                TokenSlot.RouteUse(host: host("a.example"), origin: .manifest(index: 0)),
                TokenSlot.RouteUse(host: host("d.example"), origin: .manifest(index: 3)),
            ]
        )
        #expect(
            plan.routes.map(\.tokenRef) == [
                "ANTHROPIC_API_KEY", "TOKEN_A", nil, "TOKEN_B", "TOKEN_A", "ANTHROPIC_API_KEY", "EGRESS_TOKEN_0",
            ]
        )
    }

    @Test func aSlotClaimedByTwoReferencesIsAConflict() throws {
        let slot = AuthInjection(scheme: .bearer, tokenEnv: "EGRESS_TOKEN_0")
        let routes = [
            PlannedRoute(
                route: Route(host: host("a.example"), auth: slot),
                tokenRef: "TOKEN_A",
                origin: .manifest(index: 0)
            ),
            PlannedRoute(route: Route(host: host("b.example")), tokenRef: nil, origin: .manifest(index: 1)),
            PlannedRoute(
                route: Route(host: host("c.example"), auth: slot),
                tokenRef: "TOKEN_B",
                origin: .manifest(index: 2)
            ),
        ]
        let error = try #require(planFailure { () throws(PlanError) in try TokenSlot.slots(for: routes) })
        #expect(
            error.description
                == "plan conflict: EGRESS_TOKEN_0 maps to both TOKEN_A and TOKEN_B; routes sharing a token slot must reference the same host environment variable"
        )
        let shared = [
            routes[0], routes[1], PlannedRoute(route: routes[2].route, tokenRef: "TOKEN_A", origin: .provider("p")),
        ]
        #expect(try TokenSlot.slots(for: shared).map(\.users.count) == [2])
        let unnamed = [PlannedRoute(route: routes[0].route, tokenRef: nil, origin: .provider("p"))]
        let missing = try #require(planFailure { () throws(PlanError) in try TokenSlot.slots(for: unnamed) })
        #expect(
            missing.description
                == "plan conflict: --provider p injects EGRESS_TOKEN_0 but names no host environment variable"
        )
    }

    @Test func twoProvidersForOneHostAreAConflict() throws {
        let other = Provider(name: "other", route: ManifestRoute(host: host("api.anthropic.com:443")))
        let error = try #require(
            planFailure { () throws(PlanError) in
                try EgressPlan(manifest: EgressManifest(), providers: [.anthropic, other])
            }
        )
        #expect(error.description == "providers anthropic and other both cover the host api.anthropic.com:443")
    }

    @Test func renderedRoutesAreWhatTheSidecarReads() throws {
        let manifest = try parseManifest(ManifestParsingTests.example)
        let plan = try EgressPlan(manifest: manifest, providers: [.openai])
        let text = try plan.renderRoutes()
        #expect(try RoutesConfig.parse(yaml: text, file: "routes.yaml") == plan.routesConfig)
        #expect(text.hasPrefix("log: 1\nroutes:\n- host: \"api.openai.com\"\n"))
        #expect(!text.contains("token_ref"))
        #expect(!text.contains("GITHUB_TOKEN"))
        #expect(!text.contains("role"))
        #expect(text.contains("token_env: \"EGRESS_TOKEN_1\""))
    }

    @Test(
        "routes.yaml log is validated as strictly as egress.log",
        arguments: ["true", "\"1\"", "3", "-1", "1.0"]
    )
    func routesYAMLLogIsValidated(value: String) throws {
        do {
            _ = try RoutesConfig.parse(yaml: "log: \(value)\nroutes: []\n", file: "routes.yaml")
            Issue.record("routes.yaml accepted log: \(value)")
        } catch {
            #expect(error.keyPath == "log")
            #expect(error.description.hasPrefix("routes.yaml: log: expected the integer 0, 1 or 2, got "))
        }
        let manifestError = try #require(manifestFailure("egress:\n  log: \(value)\n  routes: []\n"))
        #expect(manifestError.keyPath == "egress.log")
    }

    @Test func everyLogLevelSurvivesThePlan() throws {
        for level in LogLevel.allCases {
            let plan = try EgressPlan(manifest: EgressManifest(log: level), providers: [])
            #expect(try RoutesConfig.parse(yaml: plan.renderRoutes(), file: "routes.yaml").log == level)
        }
    }

    @Test func summaryNamesSlotsAndVariablesNeverValues() throws {
        let manifest = try parseManifest(
            """
            egress:
              routes:
                - {host: api.github.com, auth_scheme: token, token_ref: GITHUB_TOKEN}
                - {host: api.anthropic.com}
                - {host: uploads.github.com, auth_scheme: bearer, token_ref: GITHUB_TOKEN}
            """
        )
        let plan = try EgressPlan(manifest: manifest, providers: [.anthropic])
        let expected = """
            wrote out/routes.yaml: 3 routes, log: off
            wrote out/egress.env: 2 token slots
            token map (sidecar variable <- host variable):
              EGRESS_TOKEN_0 <- ANTHROPIC_API_KEY  api.anthropic.com (--provider anthropic)
              EGRESS_TOKEN_1 <- GITHUB_TOKEN       api.github.com (egress.routes[0]), uploads.github.com (egress.routes[2])
            dropped egress.routes[1] (api.anthropic.com): --provider anthropic covers that host
            """
        #expect(plan.summary(routesPath: "out/routes.yaml", envPath: "out/egress.env") == expected)
        let bare = try EgressPlan(manifest: makeManifest([("a.example", nil)]), providers: [])
        #expect(
            bare.summary(routesPath: "r", envPath: "e")
                == "wrote r: 1 route, log: off\nwrote e: 0 token slots\ntoken map: empty (no route injects a credential)"
        )
    }
}
