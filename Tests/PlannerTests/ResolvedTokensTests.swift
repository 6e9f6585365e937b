import EgressRoutes
import Testing

@testable import Planner

/// Token values from the host environment into `egress.env` (docker's `--env-file` format).
@Suite struct ResolvedTokensTests {
    static let plan: EgressPlan = {
        do {
            return try EgressPlan(
                manifest: makeManifest([
                    ("api.github.com", "GITHUB_TOKEN"), ("b.example", nil), ("c.example", "GITHUB_TOKEN"),
                ]),
                providers: [.anthropic]
            )
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    @Test func envFileHasOneLinePerSlotInOrder() throws {
        let tokens = try Self.plan.resolveTokens(
            environment: [
                "GITHUB_TOKEN": "ghp_ value with = and 'quotes' ", "ANTHROPIC_API_KEY": "sk-ant-x", "OTHER": "o",
            ]
        )
        #expect(tokens.envFile() == "EGRESS_TOKEN_0=sk-ant-x\nEGRESS_TOKEN_1=ghp_ value with = and 'quotes' \n")
        #expect(tokens.slots == ["EGRESS_TOKEN_0", "EGRESS_TOKEN_1"])
        #expect(tokens.value(for: "EGRESS_TOKEN_1") == "ghp_ value with = and 'quotes' ")
        #expect(tokens.value(for: "EGRESS_TOKEN_2") == nil)
    }

    @Test func noCredentialsMeansAnEmptyEnvFile() throws {
        let plan = try EgressPlan(manifest: makeManifest([("a.example", nil)]), providers: [])
        #expect(try plan.resolveTokens(environment: [:]).envFile() == "")
    }

    @Test func unsetVariableIsNamedWithItsHosts() throws {
        let error = try #require(
            planFailure { () throws(PlanError) in
                try Self.plan.resolveTokens(environment: ["ANTHROPIC_API_KEY": "secret-value"])
            }
        )
        #expect(
            error.description
                == "host environment variable GITHUB_TOKEN is not set; it holds the token for api.github.com (egress.routes[0]), c.example (egress.routes[2])"
        )
        #expect(!error.description.contains("secret-value"))
    }

    @Test func emptyVariableIsAnError() throws {
        let error = try #require(
            planFailure { () throws(PlanError) in
                try Self.plan.resolveTokens(environment: ["ANTHROPIC_API_KEY": "", "GITHUB_TOKEN": "g"])
            }
        )
        #expect(
            error.description
                == "host environment variable ANTHROPIC_API_KEY is empty (an empty token is never injected); it holds the token for api.anthropic.com (--provider anthropic)"
        )
    }

    @Test(
        "a value docker's env-file cannot carry is an error naming the variable, not the value",
        arguments: [
            "line1\nline2", "trailing\n", "cr\rhere", "crlf\r\n", "nul\0byte",
        ]
    )
    func unrepresentableValue(value: String) throws {
        let error = try #require(
            planFailure { () throws(PlanError) in
                try Self.plan.resolveTokens(environment: ["ANTHROPIC_API_KEY": "a", "GITHUB_TOKEN": value])
            }
        )
        #expect(error.description.hasPrefix("host environment variable GITHUB_TOKEN contains a line break or NUL"))
        #expect(!error.description.contains(value))
        #expect(!error.description.contains("line1"))
    }

    @Test func printingNeverShowsAValue() throws {
        let tokens = try Self.plan.resolveTokens(environment: [
            "GITHUB_TOKEN": "ghp_secret", "ANTHROPIC_API_KEY": "sk-secret",
        ])
        for text in [
            "\(tokens)", String(describing: tokens), String(reflecting: tokens),
            "\(Mirror(reflecting: tokens).children.map(\.value))",
        ] {
            #expect(!text.contains("secret"), "\(text)")
        }
        #expect(tokens.description == "ResolvedTokens(EGRESS_TOKEN_0, EGRESS_TOKEN_1)")
    }
}
