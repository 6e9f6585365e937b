import EgressRoutes
import Testing

@testable import Planner

@Suite struct ProviderTests {
    @Test func builtInProviders() {
        #expect(Provider.builtInNames == ["anthropic", "codex", "openai"])
        let table = Provider.builtIn.map { ($0.name, $0.route.host.description, $0.route.auth) }
        #expect(table.map(\.0) == ["anthropic", "openai", "codex"])
        #expect(table.map(\.1) == ["api.anthropic.com", "api.openai.com", "chatgpt.com"])
        #expect(
            table.map(\.2) == [
                ManifestAuth(scheme: .xApiKey, tokenRef: "ANTHROPIC_API_KEY"),
                ManifestAuth(scheme: .bearer, tokenRef: "OPENAI_API_KEY"),
                ManifestAuth(scheme: .bearer, tokenRef: "BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN"),
            ]
        )
        // Built-in providers leave the outbound policy to the planner's `redact` default.
        #expect(Provider.builtIn.allSatisfy { $0.route.dlp == DLPPolicy() && $0.route.roles.isEmpty })
    }

    @Test func selectKeepsOrderAndDropsRepeats() throws {
        let selected = try Provider.select(["codex", "anthropic", "codex", "anthropic"])
        #expect(selected.map(\.name) == ["codex", "anthropic"])
        #expect(try Provider.select([]).isEmpty)
    }

    @Test func unknownProviderNamesTheKnownOnes() throws {
        for name in ["claude", "Anthropic", "", "openai "] {
            let error = try #require(planFailure { () throws(PlanError) in try Provider.select(["openai", name]) })
            #expect(
                error.description == "unknown provider \"\(name)\"; known providers: anthropic, codex, openai"
            )
        }
    }

    @Test func coversTheSameHostOnOverlappingPorts() {
        let anthropic = Provider.anthropic
        #expect(anthropic.covers(host("api.anthropic.com")))
        #expect(anthropic.covers(host("API.Anthropic.com")))
        #expect(anthropic.covers(host("api.anthropic.com:443")))
        #expect(anthropic.covers(host("api.anthropic.com:80")))
        #expect(!anthropic.covers(host("api.anthropic.com:8443")))
        #expect(!anthropic.covers(host("*.anthropic.com")))
        #expect(!anthropic.covers(host("anthropic.com")))
        #expect(!anthropic.covers(host("*.api.anthropic.com")))
        let pinned = Provider(name: "pinned", route: ManifestRoute(host: host("llm.internal:8443")))
        #expect(pinned.covers(host("llm.internal:8443")))
        #expect(!pinned.covers(host("llm.internal")))
        let wildcard = Provider(name: "wild", route: ManifestRoute(host: host("*.llm.example")))
        #expect(wildcard.covers(host("*.llm.example:443")))
        #expect(!wildcard.covers(host("a.llm.example")))
    }

    /// What each provider's route lets through, decided by the sidecar's own route table.
    static func decide(_ provider: Provider, _ method: String, _ target: String) -> Bool {
        let auth = provider.route.auth.map { _ in "EGRESS_TOKEN_0" }
        let table = RouteTable(RoutesConfig(routes: [provider.route.route(tokenSlot: auth)]))
        let decision = table.decide(
            host: provider.route.host.host,
            port: 443,
            isTLS: true,
            request: RequestFacts(method: method, target: target)
        )
        if case .allow = decision { return true }
        return false
    }

    @Test(
        "provider matches fit their API",
        arguments: [
            (Provider.anthropic, "POST", "/v1/messages", true),
            (Provider.anthropic, "POST", "/v1/messages?beta=true", true),
            (Provider.anthropic, "POST", "/v1/messages/count_tokens?beta=true", true),
            (Provider.anthropic, "GET", "/v1/models", true),
            (Provider.anthropic, "GET", "/v1/models/claude-sonnet-4-5", true),
            (Provider.anthropic, "GET", "/v1/messages", false),
            (Provider.anthropic, "POST", "/v1/messages/batches", false),
            (Provider.anthropic, "DELETE", "/v1/models/x", false),
            (Provider.anthropic, "POST", "/v1/files", false),
            (Provider.anthropic, "GET", "/v1/modelsx", false),
            (Provider.openai, "POST", "/v1/responses", true),
            (Provider.openai, "POST", "/v1/chat/completions", true),
            (Provider.openai, "GET", "/v1/models", true),
            (Provider.openai, "DELETE", "/v1/responses/resp_1", true),
            (Provider.openai, "PUT", "/v1/responses", false),
            (Provider.openai, "GET", "/v2/models", false),
            (Provider.openai, "GET", "/", false),
            (Provider.codex, "POST", "/backend-api/codex/responses", true),
            (Provider.codex, "POST", "/backend-api/codex/responses/compact", true),
            (Provider.codex, "GET", "/backend-api/codex/models?client_version=0.50.0", true),
            (Provider.codex, "GET", "/backend-api/codex/responses", false),
            (Provider.codex, "POST", "/backend-api/conversation", false),
            (Provider.codex, "GET", "/backend-api/me", false),
            (Provider.codex, "GET", "/", false),
        ]
    )
    func providerMatches(provider: Provider, method: String, target: String, allowed: Bool) {
        #expect(Self.decide(provider, method, target) == allowed)
    }
}
