import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Frontend

/// The control API's standing decisions and history, without sockets.
@Suite("Control API: standing decisions and history")
struct ControlRouterStandingTests {
    typealias Base = ControlRouterTests

    final class Recorder: SupervisionObserver {
        let changes = NIOLockedValueBox<[SupervisionChange]>([])
        func supervisionChanged(_ change: SupervisionChange) { changes.withLockedValue { $0.append(change) } }
    }

    static func object(_ response: ControlResponse) -> [String: Any] {
        Base.json(response) as? [String: Any] ?? [:]
    }

    @Test("approve ?for=600&by=page settles, makes a standing decision, lists it at /rules, and revoke ends it")
    func standingThroughTheAPI() throws {
        let recorder = Recorder()
        let queue = Base.queue([Base.held(id: "one")], observers: [recorder])
        let router = ControlRouter(supervision: queue, token: nil)
        let approved = router.respond(to: .init(method: "POST", uri: "/pending/one/approve?for=600&by=page"))
        #expect(approved.status == 200)
        let body = Self.object(approved)
        #expect(body["decision"] as? String == "approved")
        let rule = try #require(body["rule"] as? [String: Any])
        let ruleID = try #require(rule["id"] as? String)
        #expect(rule["host"] as? String == "api.test")
        #expect(rule["detectors"] as? [String] == ["github_token_classic"])
        #expect(rule["created_by"] as? String == "page")
        #expect(rule["from_request"] as? String == "one")
        #expect((rule["expires_in_s"] as? Int).map { (599...600).contains($0) } == true, "\(rule)")

        let rules = try #require(Base.json(router.respond(to: .init(method: "GET", uri: "/rules"))) as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == [ruleID])
        #expect(rules.first?["decision"] as? String == "approve")

        let history = try #require(Base.json(router.respond(to: .init(method: "GET", uri: "/history"))) as? [[String: Any]])
        #expect(history.map { $0["status"] as? String } == ["approved", "held"])
        #expect(history.first?["by"] as? String == "page")
        #expect(history.first?["rule"] as? String == ruleID)
        #expect(history.last?["by"] is NSNull)
        #expect((history.first?["at"] as? String)?.hasSuffix("Z") == true)

        let revoked = router.respond(to: .init(method: "POST", uri: "/rules/\(ruleID)/revoke"))
        #expect(revoked.status == 200)
        #expect(Self.object(revoked)["revoked"] as? Bool == true)
        #expect(router.respond(to: .init(method: "POST", uri: "/rules/\(ruleID)/revoke")).status == 404)
        #expect(router.respond(to: .init(method: "GET", uri: "/rules")).body == "[]\n")
        let kinds = recorder.changes.withLockedValue { $0 }.map { change -> String in
            switch change {
            case .held: "held"
            case .settled(let settled): "settled \(settled.decision.rawValue) \(settled.by.rawValue)"
            case .standingDecisions(let list): "rules \(list.count)"
            }
        }
        #expect(kinds == ["held", "settled approved page", "rules 1", "rules 0"])
    }

    @Test(
        "bad for= and by= values are refused with 400 and settle nothing",
        arguments: ["for=0", "for=86401", "for=-5", "for=10m", "for=", "for=1e3", "by=rule", "by=timeout", "by=x"]
    )
    func badQuery(_ query: String) {
        let queue = Base.queue([Base.held(id: "one")])
        let router = ControlRouter(supervision: queue, token: nil)
        let response = router.respond(to: .init(method: "POST", uri: "/pending/one/approve?\(query)"))
        #expect(response.status == 400, "\(query)")
        #expect(queue.pending().map(\.id) == ["one"])
        #expect(queue.standingDecisions().isEmpty)
    }

    @Test("the new endpoints need the token, refuse cross-site POSTs and wrong methods")
    func guarded() throws {
        let token = try #require(ControlToken("s3cret-token"))
        let queue = Base.queue([Base.held(id: "one")])
        let router = ControlRouter(supervision: queue, token: token)
        for uri in ["/rules", "/history"] {
            #expect(router.respond(to: .init(method: "GET", uri: uri)).status == 401)
            #expect(router.respond(to: .init(method: "GET", uri: uri, authorization: "Bearer s3cret-token")).status == 200)
            #expect(router.respond(to: .init(method: "POST", uri: uri, authorization: "Bearer s3cret-token")).status == 405)
        }
        let open = ControlRouter(supervision: queue, token: nil)
        _ = try queue.decide("one", approve: true, by: .cli, standingFor: 60)
        let ruleID = try #require(queue.standingDecisions().first?.id)
        let foreign = open.respond(
            to: .init(method: "POST", uri: "/rules/\(ruleID)/revoke", origin: "http://evil.example", host: "127.0.0.1:9")
        )
        #expect(foreign.status == 403)
        #expect(open.respond(to: .init(method: "GET", uri: "/rules/\(ruleID)/revoke")).status == 405)
        #expect(queue.standingDecisions().count == 1)
    }

    @Test("standing-duration text parses 90s, 10m, 2h and bare seconds, from 1 s to a day")
    func durations() {
        #expect(StandingDuration.seconds(parsing: "90s") == 90)
        #expect(StandingDuration.seconds(parsing: "10m") == 600)
        #expect(StandingDuration.seconds(parsing: "2h") == 7200)
        #expect(StandingDuration.seconds(parsing: "45") == 45)
        #expect(StandingDuration.seconds(parsing: "24h") == 86_400)
        for bad in ["", "0", "0m", "25h", "1d", "m", "-1m", "1.5h", "１m", "99999999999999999999s", " 5m"] {
            #expect(StandingDuration.seconds(parsing: bad) == nil, "\(bad)")
        }
    }
}
