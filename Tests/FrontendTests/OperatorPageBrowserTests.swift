import Foundation
import Testing

@testable import Frontend

/// The operator page in a real browser (headless Chromium from Debian's packages, driven by
/// Selenium; scripts/setup.sh installs both): a held request shows up, Approve forwards it;
/// "Approve for 10 min" also lets the next identical request through at once, and the history
/// shows both.
@Suite("Operator page in a browser", .timeLimit(.minutes(2)))
struct OperatorPageBrowserTests {
    static let token = "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"

    static let routes = "log: 1\nroutes:\n  - host: \"api.test\"\n    dlp: {inbound_detectors: false}\n"

    /// A proxy under the default `supervise` policy with a TCP control listener (token
    /// `operator-secret`), and a way to run a browser script from Browser/ against its page.
    static func withPage(
        _ body: (Scenario, _ runBrowser: @escaping @Sendable (String) async throws -> ProcessResult) async throws -> Void
    ) async throws {
        // If the browser never clicks, the held request expires well within the time limit.
        try await Scenario.run(routes: routes, scanners: 1, superviseTimeout: .seconds(45)) { s in
            let control = try await ControlServer.start(
                address: .tcp(ListenAddress(host: "127.0.0.1", port: 0)),
                token: ControlToken("operator-secret"),
                supervision: s.proxy.supervision
            )
            guard case .tcp(let bound) = control.address else {
                await control.shutdown()
                Issue.record("the control server is not on TCP")
                return
            }
            let runBrowser: @Sendable (String) async throws -> ProcessResult = { name in
                let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                    .appendingPathComponent("Browser/\(name)").path
                return try await runProcess(
                    "/usr/bin/env",
                    [
                        "python3", script, "http://127.0.0.1:\(bound.port)/",
                        "Basic " + Data("operator:operator-secret".utf8).base64EncodedString(), "api.test", Self.token,
                    ],
                    environment: [
                        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                        "HOME": NSTemporaryDirectory(), "PYTHONDONTWRITEBYTECODE": "1",
                    ]
                )
            }
            do {
                try await body(s, runBrowser)
            } catch {
                await control.shutdown()
                throw error
            }
            await control.shutdown()
        }
    }

    /// The agent's POST carrying the token; stdout ends with the status code.
    static func post(_ proxy: ProxyHarness) async throws -> ProcessResult {
        try await curl(proxy, ["-w", "\n%{http_code}", "-d", "key=\(Self.token)", "https://api.test/p"])
    }

    static func waitForHeld(_ proxy: ProxyHarness) async throws {
        for _ in 0..<100 where proxy.supervision.pending().isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("open the page, see the held request, click Approve, and the request is forwarded")
    func approveInBrowser() async throws {
        try await Self.withPage { s, runBrowser in
            let proxy = s.proxy
            let agent = Task { try await Self.post(proxy) }
            try await Self.waitForHeld(proxy)
            let browser = try await runBrowser("approve_held_request.py")
            let result = try await agent.value
            #expect(browser.status == 0, "\(browser.stdout)\(browser.stderr)")
            #expect(browser.stdout.contains("api.test"))
            #expect(result.stdout.hasSuffix("\n200"), "\(result.stdout)")
            #expect(s.upstream.requests.first?.bodyText == "key=\(Self.token)")
            let outcomes = s.proxy.events.events("egress_supervise").map { "\($0["status"] as? String ?? "") \($0["by"] as? String ?? "-")" }
            #expect(outcomes == ["held -", "approved page"])
            #expect(proxy.supervision.standingDecisions().isEmpty, "a plain Approve makes no standing decision")
        }
    }

    @Test("click Approve for 10 min: the next identical request is forwarded at once, and the history shows both")
    func standingApprovalInBrowser() async throws {
        try await Self.withPage { s, runBrowser in
            let proxy = s.proxy
            let first = Task { try await Self.post(proxy) }
            try await Self.waitForHeld(proxy)
            let browser = Task { try await runBrowser("standing_approval.py") }
            // The browser's click makes the standing decision; then the agent sends the same request.
            for _ in 0..<600 where proxy.supervision.standingDecisions().isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            let firstResult = try await first.value
            let second = try await Self.post(proxy)
            let result = try await browser.value
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("standing: approve"))
            #expect(firstResult.stdout.hasSuffix("\n200"), "\(firstResult.stdout)")
            #expect(second.stdout.hasSuffix("\n200"), "\(second.stdout)")
            #expect(s.upstream.requests.count == 2)
            let outcomes = s.proxy.events.events("egress_supervise").map { "\($0["status"] as? String ?? "") \($0["by"] as? String ?? "-")" }
            #expect(outcomes == ["held -", "approved page", "approved rule"])
        }
    }
}
