import EgressRoutes
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import Frontend

/// `--notify`: the three body formats, and delivery to a local receiver with retries, a timeout
/// and failures reported as events that never name the URL's path.
@Suite("Notifications", .timeLimit(.minutes(2)))
struct NotifierTests {
    static let now = Date(timeIntervalSince1970: 3_000_000)

    static func held(path: String = "/gists") -> SupervisionQueue.HeldRequest {
        .init(
            id: "k3v9w2mxqa", route: "api.github.com", host: "api.github.com", origin: "https://api.github.com:443",
            method: "POST", path: path,
            detectors: ["github_token_classic"], labels: ["GitHub token (classic)"], previews: ["ghp_…T4V4"],
            heldAt: now, expiresAt: now.addingTimeInterval(300)
        )
    }

    static func settled(by: Decider, rule: StandingDecision? = nil) -> SupervisionBook.Settlement {
        .init(request: held(), decision: .approved, by: by, rule: rule)
    }

    @Test("json: the held request's fields, its expiry and the page link; then its outcome and who decided")
    func jsonFormat() throws {
        let message = try #require(
            NotificationMessage.make(.held(Self.held()), format: .json, page: "http://ops:9090/", now: Self.now)
        )
        #expect(message.contentType == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(message.body.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "held")
        #expect(object["id"] as? String == "k3v9w2mxqa")
        #expect(object["host"] as? String == "api.github.com")
        #expect(object["method"] as? String == "POST")
        #expect(object["path"] as? String == "/gists")
        #expect(object["labels"] as? [String] == ["GitHub token (classic)"])
        #expect(object["previews"] as? [String] == ["ghp_…T4V4"])
        #expect(object["expires_in_s"] as? Int == 300)
        #expect(object["expires_at"] as? String == "1970-02-04T17:25:00.000Z")
        #expect(object["page"] as? String == "http://ops:9090/")
        let outcome = try #require(NotificationMessage.make(.settled(Self.settled(by: .cli)), format: .json, page: nil))
        let decided = try #require(try JSONSerialization.jsonObject(with: Data(outcome.body.utf8)) as? [String: Any])
        #expect(decided["event"] as? String == "approved")
        #expect(decided["by"] as? String == "cli")
    }

    @Test("slack: one text field, and the agent's path cannot forge links or mentions")
    func slackFormat() throws {
        let hostile = Self.held(path: "/x?<https://evil.example|Approve here>&<!channel>")
        let message = try #require(NotificationMessage.make(.held(hostile), format: .slack, page: "http://ops:9090/", now: Self.now))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(message.body.utf8)) as? [String: String])
        #expect(Array(object.keys) == ["text"])
        let text = try #require(object["text"])
        #expect(text.contains("`POST api.github.com/x?&lt;https://evil.example|Approve%20here&gt;&amp;&lt;!channel&gt;`"), "\(text)")
        #expect(!text.contains("<https://evil") && !text.contains("<!channel>"))
        // Look-alike spaces, bidi controls and backticks from a path are encoded; long paths are cut.
        let sneaky = Self.held(path: "/a\u{2003}Click\u{202E}here`" + String(repeating: "x", count: 500))
        let cut = try #require(NotificationMessage.make(.held(sneaky), format: .slack, page: nil, now: Self.now))
        let cutText = try #require((try JSONSerialization.jsonObject(with: Data(cut.body.utf8)) as? [String: String])?["text"])
        #expect(cutText.contains("/a%E2%80%83Click%E2%80%AEhere%60xxx"), "\(cutText)")
        #expect(!cutText.contains("\u{2003}") && !cutText.contains("\u{202E}"))
        #expect(cutText.count < 450, "\(cutText.count)")
        #expect(text.contains("<http://ops:9090/|Open the operator page>"))
        #expect(text.contains("GitHub token (classic) (ghp_…T4V4)"))
        #expect(text.contains("egress supervise approve k3v9w2mxqa"))
    }

    @Test("ntfy: the message as text, title, tags, priority and the page as headers")
    func ntfyFormat() throws {
        let message = try #require(NotificationMessage.make(.held(Self.held()), format: .ntfy, page: "http://ops:9090/", now: Self.now))
        #expect(message.contentType.hasPrefix("text/plain"))
        #expect(message.headers.map(\.0) == ["Title", "Tags", "Priority", "Click"])
        #expect(message.headers.last?.1 == "http://ops:9090/")
        #expect(message.body.hasPrefix("POST api.github.com/gists\nFound: GitHub token (classic) (ghp_…T4V4)"), "\(message.body)")
        let rule = StandingDecision(
            id: "r1", verdict: .approve, route: "api.github.com", host: "api.github.com",
            origin: "https://api.github.com:443",
            detectors: ["github_token_classic"], createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(600),
            createdBy: .page, fromRequest: "k3v9w2mxqa"
        )
        let outcome = try #require(
            NotificationMessage.make(.settled(Self.settled(by: .page, rule: rule)), format: .ntfy, page: nil, now: Self.now)
        )
        #expect(outcome.body.contains("approved by page and made standing decision r1 for 600 s"))
    }

    @Test("requests a standing decision settled, and rule lists, send nothing")
    func quietChanges() {
        for format in NotificationFormat.allCases {
            #expect(NotificationMessage.make(.settled(Self.settled(by: .rule)), format: format, page: nil) == nil)
            #expect(NotificationMessage.make(.standingDecisions([]), format: format, page: nil) == nil)
        }
    }

    @Test("URLs: http(s) only, no credentials, and never one the agent can reach through the proxy")
    func targets() throws {
        let target = try NotifyTarget(parsing: "https://hooks.slack.com/services/T000/B000/XXXXSECRET")
        #expect(target.display == "https://hooks.slack.com:443")
        for bad in ["ftp://x/", "hooks.slack.com/x", "https://user:pw@ntfy.sh/topic", "https://ntfy.sh/t#x", "http:///x"] {
            #expect(throws: NotifyTarget.ParseError.self, "\(bad)") { try NotifyTarget(parsing: bad) }
        }
        let routes = try RoutesConfig.parse(yaml: "routes:\n  - host: \"*.slack.com\"\n  - host: api.test\n", file: "routes.yaml")
        let reason = try #require(target.reachableByAgent(routes: routes, listenHost: "127.0.0.1", listenPort: 8080))
        #expect(reason.contains("route 1") && reason.contains("*.slack.com") && !reason.contains("SECRET"))
        let ntfy = try NotifyTarget(parsing: "http://127.0.0.1:8080/topic")
        #expect(ntfy.reachableByAgent(routes: routes, listenHost: "0.0.0.0", listenPort: 8080)?.contains("own listener") == true)
        let fine = try NotifyTarget(parsing: "https://ntfy.sh/egress-ops")
        #expect(fine.reachableByAgent(routes: routes, listenHost: "127.0.0.1", listenPort: 8080) == nil)
    }

    /// Events the notifier reports, captured.
    static func capture() -> (EventLog, NIOLockedValueBox<[String]>) {
        let lines = NIOLockedValueBox<[String]>([])
        return (EventLog(level: .blocks, sink: { line in lines.withLockedValue { $0.append(line) } }), lines)
    }

    @Test("each held request and its outcome reach a local receiver, in order")
    func delivery() async throws {
        let receiver = try await UpstreamServer.start { _ in .full(body: Array("ok".utf8)) }
        let (events, lines) = Self.capture()
        let notifier = Notifier(
            targets: [try NotifyTarget(parsing: "http://127.0.0.1:\(receiver.port)/hook/topic-secret")],
            settings: .init(format: .json, page: "http://127.0.0.1:1/"),
            events: events
        )
        notifier.supervisionChanged(.held(Self.held()))
        notifier.supervisionChanged(.settled(Self.settled(by: .cli)))
        for _ in 0..<200 where receiver.requests.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
        await notifier.shutdown()
        await receiver.shutdown()
        let requests = receiver.requests
        #expect(requests.map(\.head.uri) == ["/hook/topic-secret", "/hook/topic-secret"])
        #expect(requests.allSatisfy { $0.head.method == .POST && $0.header("content-type") == "application/json" })
        let kinds = requests.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["event"] as? String }
        #expect(kinds == ["held", "approved"])
        #expect(lines.withLockedValue { $0 }.isEmpty)
    }

    @Test("a receiver that keeps failing gets its tries, then one egress_notify event that names only scheme, host and port")
    func failures() async throws {
        let receiver = try await UpstreamServer.start { _ in .full(status: 500, body: []) }
        let (events, lines) = Self.capture()
        var settings = Notifier.Settings(format: .slack)
        settings.backoff = .milliseconds(20)
        let notifier = Notifier(
            targets: [
                try NotifyTarget(parsing: "http://127.0.0.1:\(receiver.port)/services/T0/B0/SECRETPATH"),
                // Nothing listens on port 9 (discard): the connection is refused.
                try NotifyTarget(parsing: "http://127.0.0.1:9/SECRETPATH"),
            ],
            settings: settings,
            events: events
        )
        notifier.supervisionChanged(.held(Self.held()))
        for _ in 0..<300 where lines.withLockedValue({ $0 }).count < 2 { try await Task.sleep(for: .milliseconds(20)) }
        await notifier.shutdown()
        await receiver.shutdown()
        #expect(receiver.requests.count == 3)
        let failed = lines.withLockedValue { $0 }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(failed.count == 2)
        #expect(failed.allSatisfy { $0["event"] as? String == "egress_notify" && $0["status"] as? String == "failed" })
        #expect(failed.contains { ($0["detail"] as? String)?.hasPrefix("HTTP 500 (3 of 3 tries)") == true })
        #expect(Set(failed.compactMap { $0["target"] as? String }) == ["http://127.0.0.1:\(receiver.port)", "http://127.0.0.1:9"])
        #expect(!lines.withLockedValue { $0 }.joined().contains("SECRETPATH"))
    }

    @Test("a receiver that never answers is given up on after the timeout, without holding up anything else")
    func timeout() async throws {
        let receiver = try await UpstreamServer.start { _ in .silent }
        let (events, lines) = Self.capture()
        var settings = Notifier.Settings(format: .ntfy)
        settings.timeout = .milliseconds(300)
        settings.attempts = 2
        settings.backoff = .milliseconds(10)
        let notifier = Notifier(
            targets: [try NotifyTarget(parsing: "http://127.0.0.1:\(receiver.port)/t")],
            settings: settings,
            events: events
        )
        notifier.supervisionChanged(.held(Self.held()))
        for _ in 0..<300 where lines.withLockedValue({ $0 }).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        await notifier.shutdown()
        await receiver.shutdown()
        let line = try #require(lines.withLockedValue { $0 }.first)
        #expect(line.contains(#""detail":"timed out (2 of 2 tries)""#), "\(line)")
    }
}

/// The rate limit of one `--notify` URL, without sockets.
@Suite("Notification budget")
struct NotificationBudgetTests {
    @Test("a burst goes out, then one message per interval; what was left out is counted into the next")
    func budget() {
        let t0 = Date(timeIntervalSince1970: 0)
        var budget = NotificationBudget(burst: 3, interval: 2, now: t0)
        let burst = (0..<5).map { _ in budget.take(now: t0).send }
        #expect(burst == [true, true, true, false, false])
        #expect(budget.take(now: t0.addingTimeInterval(1)).send == false)
        let next = budget.take(now: t0.addingTimeInterval(2.1))
        #expect(next.send && next.suppressedBefore == 3)
        #expect(budget.take(now: t0.addingTimeInterval(2.2)) == (false, 0))
        let later = budget.take(now: t0.addingTimeInterval(60))
        #expect(later.send && later.suppressedBefore == 1)
        #expect((0..<2).allSatisfy { _ in budget.take(now: t0.addingTimeInterval(60)).send }, "refilled to the burst, not beyond")
        #expect(!budget.take(now: t0.addingTimeInterval(60)).send)
    }
}
