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

    @Test("open the page, see the held request, click Approve, and the request is forwarded")
    func approveInBrowser() async throws {
        let routes = "log: 1\nroutes:\n  - host: \"api.test\"\n    dlp: {inbound_detectors: false}\n"
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
            let agent = Task { try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", "key=\(Self.token)", "https://api.test/p"]) }
            for _ in 0..<100 where s.proxy.supervision.pending().isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Browser/approve_held_request.py").path
            let browser = try await runProcess(
                "/usr/bin/env",
                [
                    "python3", script, "http://127.0.0.1:\(bound.port)/",
                    "Basic " + Data("operator:operator-secret".utf8).base64EncodedString(), "api.test", Self.token,
                ],
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
            )
            let result = try await agent.value
            await control.shutdown()
            #expect(browser.status == 0, "\(browser.stdout)\(browser.stderr)")
            #expect(browser.stdout.contains("api.test"))
            #expect(result.stdout.hasSuffix("\n200"), "\(result.stdout)")
            #expect(s.upstream.requests.first?.bodyText == "key=\(Self.token)")
            let statuses = s.proxy.events.events("egress_supervise").compactMap { $0["status"] as? String }
            #expect(statuses == ["held", "approved"])
        }
    }

    @Test("click Approve for 10 min: the next identical request is forwarded at once, and the history shows both")
    func standingApprovalInBrowser() async throws {
        let routes = "log: 1\nroutes:\n  - host: \"api.test\"\n    dlp: {inbound_detectors: false}\n"
        try await Scenario.run(routes: routes, scanners: 1, superviseTimeout: .seconds(60)) { s in
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
            let proxy = s.proxy
            let post: @Sendable () async throws -> ProcessResult = {
                try await curl(proxy, ["-w", "\n%{http_code}", "-d", "key=\(Self.token)", "https://api.test/p"])
            }
            let first = Task { try await post() }
            for _ in 0..<100 where s.proxy.supervision.pending().isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Browser/standing_approval.py").path
            let browser = Task {
                try await runProcess(
                    "/usr/bin/env",
                    [
                        "python3", script, "http://127.0.0.1:\(bound.port)/",
                        "Basic " + Data("operator:operator-secret".utf8).base64EncodedString(), "api.test", Self.token,
                    ],
                    environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
                )
            }
            // The browser's click makes the standing decision; then the agent sends the same request.
            for _ in 0..<600 where s.proxy.supervision.standingDecisions().isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            let firstResult = try await first.value
            let second = try await post()
            let result = try await browser.value
            await control.shutdown()
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
