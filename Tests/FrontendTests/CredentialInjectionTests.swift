import EgressRoutes
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("Credential injection")
struct CredentialInjectionTests {
    @Test(
        "each scheme replaces whatever the agent sent",
        arguments: [
            (AuthScheme.bearer, "authorization", "Bearer real"),
            (.token, "authorization", "token real"),
            (.basic, "authorization", "Basic eC1hY2Nlc3MtdG9rZW46cmVhbA=="),
            (.xApiKey, "x-api-key", "real"),
        ]
    )
    func schemes(scheme: AuthScheme, header: String, value: String) {
        var headers = HTTPHeaders([
            ("Authorization", "Bearer agent-fake"), ("X-Api-Key", "agent-key"), ("Accept", "*/*"),
        ])
        Credential(scheme: scheme, token: "real").inject(into: &headers)
        #expect(headers[header] == [value])
        #expect(!headers.contains { $0.value.contains("agent-fake") })
        #expect(headers["accept"] == ["*/*"])
        if scheme == .xApiKey { #expect(!headers.contains { $0.value == "agent-key" }) }
    }

    @Test("start-up fails naming the variable, never a value, when a token is unset or empty")
    func tokenResolution() throws {
        let config = try RoutesConfig.parse(
            yaml: "routes:\n  - host: api.test\n    auth_scheme: bearer\n    token_env: EGRESS_TOKEN_0\n",
            file: "routes.yaml"
        )
        #expect(throws: TokenStoreError.self) { try TokenStore.resolve(config, environment: [:]) }
        do {
            _ = try TokenStore.resolve(config, environment: ["EGRESS_TOKEN_0": ""])
            Issue.record("empty token accepted")
        } catch {
            #expect(error.description.contains("EGRESS_TOKEN_0"))
            #expect(error.description.contains("empty"))
        }
        let store = try TokenStore.resolve(config, environment: ["EGRESS_TOKEN_0": "s3cret"])
        #expect(store.credential(for: config.routes[0].auth!)?.token == "s3cret")
    }

    @Test("through a tunnel the upstream sees the operator's token and not the agent's", .timeLimit(.minutes(1)))
    func injectedThroughTunnel() async throws {
        let routes = """
            routes:
              - host: "api.test"
                auth_scheme: token
                token_env: EGRESS_TOKEN_0
            \(dlpOff)
            """
        try await Scenario.run(routes: routes, environment: ["EGRESS_TOKEN_0": "operator-secret"]) { s in
            let result = try await curl(
                s.proxy,
                [
                    "-H", "Authorization: Bearer agent-fake", "-H", "Host: other.test", "https://api.test/user",
                ]
            )
            #expect(result.status == 0, "\(result.stderr)")
            let headers = try #require(Scenario.echoed(result)?["headers"] as? [String: String])
            #expect(headers["authorization"] == "token operator-secret")
            #expect(headers["host"] == "api.test")
        }
    }

    @Test("x-api-key injection replaces the agent's key", .timeLimit(.minutes(1)))
    func apiKeyThroughTunnel() async throws {
        let routes = """
            routes:
              - host: "api.test"
                auth_scheme: X-API-KEY
                token_env: KEY
            \(dlpOff)
            """
        try await Scenario.run(routes: routes, environment: ["KEY": "operator-key"]) { s in
            let result = try await curl(s.proxy, ["-H", "x-api-key: agent-key", "https://api.test/v1/messages"])
            let headers = try #require(Scenario.echoed(result)?["headers"] as? [String: String])
            #expect(headers["x-api-key"] == "operator-key")
        }
    }
}
