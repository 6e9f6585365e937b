import Foundation
import Testing

@testable import Frontend

/// Standing decisions and the history, driven through the pure book: what a decision covers, what
/// it never covers, how it ends, and what the history records.
@Suite("Supervision book: standing decisions and history")
struct SupervisionBookTests {
    static let t0 = Date(timeIntervalSince1970: 2_000_000)

    static func request(
        _ id: String,
        route: String = "*.github.com",
        host: String = "api.github.com",
        scheme: String = "https",
        detectors: [String] = ["github_token_classic"]
    ) -> SupervisionQueue.HeldRequest {
        .init(
            id: id,
            route: route,
            host: host,
            origin: "\(scheme)://\(host):\(scheme == "https" ? 443 : 80)",
            method: "POST",
            path: "/gists",
            detectors: detectors,
            labels: detectors,
            previews: detectors.map { _ in "ghp_…T4V4" },
            heldAt: t0,
            expiresAt: t0.addingTimeInterval(300)
        )
    }

    /// A book with one standing `approve` (or `deny`) for 600 s, made from request `a` at t0.
    static func bookWithStanding(approve: Bool = true, detectors: [String] = ["github_token_classic"]) throws -> SupervisionBook {
        var book = SupervisionBook()
        #expect(book.hold(request("a", detectors: detectors), limit: 8, now: t0) == .held)
        let settled = try book.settle("a", approve ? .approved : .denied, by: .cli, standingFor: 600, ruleID: "rule1", now: t0).get()
        #expect(settled.rule?.id == "rule1")
        #expect(settled.rule?.verdict == (approve ? .approve : .deny))
        return book
    }

    @Test("a standing approve settles the same route, host and detectors at once, and counts its hits")
    func standingApprove() throws {
        var book = try Self.bookWithStanding()
        guard case .decided(.approved, let rule) = book.hold(Self.request("b"), limit: 8, now: Self.t0.addingTimeInterval(10)) else {
            Issue.record("not settled by the standing decision")
            return
        }
        #expect(rule.id == "rule1")
        #expect(rule.hits == 1)
        #expect(book.held.isEmpty)
        _ = book.hold(Self.request("c", host: "API.GitHub.com"), limit: 8, now: Self.t0.addingTimeInterval(11))
        #expect(book.standingDecisions(now: Self.t0).first?.hits == 2, "hosts compare case-insensitively")
    }

    @Test(
        "a standing decision never covers another host, another route, or a detector it was not made for",
        arguments: [
            request("x", host: "uploads.github.com"),
            request("x", route: "api.github.com"),
            request("x", detectors: ["github_token_classic", "aws_access_key_id"]),
            request("x", detectors: ["aws_access_key_id"]),
            request("x", scheme: "http"),
        ]
    )
    func neverWidens(_ other: SupervisionQueue.HeldRequest) throws {
        var book = try Self.bookWithStanding()
        #expect(book.hold(other, limit: 8, now: Self.t0.addingTimeInterval(1)) == .held)
        #expect(book.held.map(\.id) == ["x"])
    }

    @Test("a decision made for several detectors covers a request with some of them")
    func subsetOfDetectors() throws {
        var book = try Self.bookWithStanding(detectors: ["github_token_classic", "aws_access_key_id"])
        guard case .decided(.approved, _) = book.hold(Self.request("b"), limit: 8, now: Self.t0) else {
            Issue.record("a request with fewer of the same detectors was held")
            return
        }
    }

    @Test("it ends when its time is up, and when revoked")
    func endsAndRevokes() throws {
        var book = try Self.bookWithStanding()
        #expect(book.hold(Self.request("late"), limit: 8, now: Self.t0.addingTimeInterval(600)) == .held)
        #expect(book.standingDecisions(now: Self.t0.addingTimeInterval(600)).isEmpty)

        var revoked = try Self.bookWithStanding()
        #expect(revoked.revoke("nope", now: Self.t0) == nil)
        #expect(revoked.revoke("rule1", now: Self.t0)?.id == "rule1")
        #expect(revoked.revoke("rule1", now: Self.t0) == nil)
        #expect(revoked.hold(Self.request("b"), limit: 8, now: Self.t0) == .held)
    }

    static func rule(_ id: String, _ verdict: StandingDecision.Verdict, host: String = "api.github.com") -> StandingDecision {
        StandingDecision(
            id: id, verdict: verdict, route: "*.github.com", host: host, origin: "https://\(host):443",
            detectors: ["github_token_classic"],
            createdAt: t0, expiresAt: t0.addingTimeInterval(60), createdBy: .cli, fromRequest: "x"
        )
    }

    @Test("a deny wins over an approve for the same request")
    func denyWins() throws {
        var book = SupervisionBook(rules: [Self.rule("yes", .approve), Self.rule("no", .deny)])
        guard case .decided(.denied, let rule) = book.hold(Self.request("e"), limit: 8, now: Self.t0) else {
            Issue.record("the deny did not win")
            return
        }
        #expect(rule.id == "no")
    }

    @Test("a standing deny refuses any request with one of its detectors, even one an approve for more covers")
    func denyCannotBeSidestepped() throws {
        var both = Self.rule("both", .approve)
        both.detectors = ["aws_access_key_id", "github_token_classic"]
        var book = SupervisionBook(rules: [both, Self.rule("no", .deny)])
        let request = Self.request("e", detectors: ["github_token_classic", "aws_access_key_id"])
        guard case .decided(.denied, let rule) = book.hold(request, limit: 8, now: Self.t0) else {
            Issue.record("adding a second finding slipped past the deny")
            return
        }
        #expect(rule.id == "no")
        guard case .decided(.approved, _) = book.hold(Self.request("f", detectors: ["aws_access_key_id"]), limit: 8, now: Self.t0)
        else {
            Issue.record("the approve no longer covers what the deny does not")
            return
        }
    }

    @Test("the same decision again renews it instead of adding one; another verdict or host is another decision")
    func renewal() throws {
        var rules = StandingDecisions()
        try rules.add(Self.rule("r0", .approve), now: Self.t0)
        try rules.add(Self.rule("r1", .approve), now: Self.t0)
        try rules.add(Self.rule("r2", .deny), now: Self.t0)
        try rules.add(Self.rule("r3", .approve, host: "uploads.github.com"), now: Self.t0)
        #expect(rules.current(now: Self.t0).map(\.id) == ["r1", "r2", "r3"])
    }

    @Test("a bad duration or a full set settles nothing")
    func refusedStandingDecisions() throws {
        var book = SupervisionBook()
        _ = book.hold(Self.request("a"), limit: 8, now: Self.t0)
        #expect(throws: SupervisionBook.SettleError.self) {
            try book.settle("a", .approved, by: .cli, standingFor: 86_401, now: Self.t0).get()
        }
        #expect(book.held.map(\.id) == ["a"])
        var full = SupervisionBook(
            rules: (0..<StandingDecisions.capacity).map { index in
                StandingDecision(
                    id: "r\(index)", verdict: .approve, route: "h\(index).test", host: "h\(index).test",
                    origin: "https://h\(index).test:443",
                    detectors: ["github_token_classic"], createdAt: Self.t0, expiresAt: Self.t0.addingTimeInterval(60),
                    createdBy: .cli, fromRequest: "x"
                )
            }
        )
        _ = full.hold(Self.request("a"), limit: 8, now: Self.t0)
        let result = full.settle("a", .approved, by: .cli, standingFor: 60, now: Self.t0)
        #expect(result == .failure(.rule(.full(StandingDecisions.capacity))))
        #expect(full.held.map(\.id) == ["a"])
        #expect(try full.settle("a", .approved, by: .cli, now: Self.t0).get().rule == nil, "a one-off approve still works")
    }

    @Test("the hold limit refuses new requests but not ones a standing decision settles")
    func holdLimit() throws {
        var book = try Self.bookWithStanding()
        #expect(book.hold(Self.request("x", host: "a.test"), limit: 1, now: Self.t0) == .held)
        #expect(book.hold(Self.request("y", host: "b.test"), limit: 1, now: Self.t0) == .full(limit: 1))
        guard case .decided = book.hold(Self.request("z"), limit: 1, now: Self.t0) else {
            Issue.record("a standing decision was blocked by the hold limit")
            return
        }
    }

    @Test("the history keeps the last N decisions, newest first, with who decided")
    func history() throws {
        var book = SupervisionBook(historyCapacity: 4)
        _ = book.hold(Self.request("a"), limit: 8, now: Self.t0)
        _ = try book.settle("a", .approved, by: .page, standingFor: 60, ruleID: "rule1", now: Self.t0).get()
        _ = book.hold(Self.request("b"), limit: 8, now: Self.t0)
        _ = book.hold(Self.request("c", host: "x.test"), limit: 8, now: Self.t0)
        _ = try book.settle("c", .expired, by: .timeout, now: Self.t0).get()
        let entries = book.history.newestFirst
        #expect(entries.map { "\($0.id) \($0.status) \($0.by?.rawValue ?? "-") \($0.rule ?? "-")" } == [
            "c expired timeout -", "c held - -", "b approved rule rule1", "a approved page rule1", "a held - -",
        ])
    }

    @Test("a flood of held and abandoned requests cannot push the operators' decisions out of the history")
    func floodKeepsDecisions() throws {
        var book = SupervisionBook(historyCapacity: 3)
        _ = book.hold(Self.request("mine"), limit: 8, now: Self.t0)
        _ = try book.settle("mine", .denied, by: .cli, now: Self.t0).get()
        for index in 0..<50 {
            _ = book.hold(Self.request("f\(index)", host: "x.test"), limit: 8, now: Self.t0)
            _ = try book.settle("f\(index)", .abandoned, by: .agent, now: Self.t0).get()
        }
        let entries = book.history.newestFirst
        #expect(entries.count == 4)
        #expect(entries.last.map { "\($0.id) \($0.status) \($0.by?.rawValue ?? "-")" } == "mine denied cli")
    }
}
