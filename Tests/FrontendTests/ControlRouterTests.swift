import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import NIOCore
import Testing

@testable import Frontend

/// The control API's routing, authentication and rendering, without sockets.
@Suite("Control API routing")
struct ControlRouterTests {
    static let now = Date(timeIntervalSince1970: 1_000_000)
    /// Timers of held requests fire here (long after a test ends, harmlessly: the queue is gone).
    static var loop: any EventLoop { MultiThreadedEventLoopGroup.singleton.next() }

    /// A real queue holding `held` (ids as given), held at `now` for 42.5 s.
    static func queue(_ held: [SupervisionQueue.HeldRequest], observers: [any SupervisionObserver] = []) -> SupervisionQueue {
        let queue = SupervisionQueue(observers: observers)
        for request in held {
            _ = queue.hold(
                route: request.route,
                host: request.host,
                origin: request.origin,
                method: request.method,
                path: request.path,
                detectors: request.detectors,
                labels: request.labels,
                previews: request.previews,
                timeout: .milliseconds(42_500),
                limit: 64,
                on: loop,
                now: now,
                id: request.id
            )
        }
        return queue
    }

    static func held(
        id: String = "abc234",
        host: String = "api.test",
        path: String = "/gists",
        detectors: [String] = ["github_token_classic"]
    ) -> SupervisionQueue.HeldRequest {
        .init(
            id: id,
            route: host,
            host: host,
            origin: "https://\(host):443",
            method: "POST",
            path: path,
            detectors: detectors,
            labels: detectors.map { _ in "GitHub token (classic)" },
            previews: detectors.map { _ in "ghp_M7…T4V4" },
            heldAt: now,
            expiresAt: now.addingTimeInterval(42.5)
        )
    }

    static func json(_ response: ControlResponse) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(response.body.utf8))
    }

    @Test("GET /pending lists held requests with the documented fields")
    func pendingList() throws {
        let router = ControlRouter(supervision: Self.queue([Self.held()]), token: nil)
        let response = router.respond(to: .init(method: "GET", uri: "/pending"), now: Self.now)
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(
            response.body
                == #"[{"id":"abc234","route":"api.test","host":"api.test","method":"POST","path":"/gists","detectors":["github_token_classic"],"labels":["GitHub token (classic)"],"previews":["ghp_M7…T4V4"],"expires_in_s":43}]"#
                + "\n"
        )
        let empty = ControlRouter(supervision: Self.queue([]), token: nil)
        #expect(empty.respond(to: .init(method: "GET", uri: "/pending?x=1")).body == "[]\n")
    }

    @Test("approve and deny settle known ids and answer 404 for unknown or settled ones")
    func settle() {
        let queue = Self.queue([Self.held(id: "one"), Self.held(id: "two")])
        let router = ControlRouter(supervision: queue, token: nil)
        let approved = router.respond(to: .init(method: "POST", uri: "/pending/one/approve"))
        #expect(approved.status == 200)
        #expect(approved.body == #"{"id":"one","decision":"approved"}"# + "\n")
        let denied = router.respond(to: .init(method: "POST", uri: "/pending/two/deny"))
        #expect(denied.body == #"{"id":"two","decision":"denied"}"# + "\n")
        #expect(queue.history().map { "\($0.id) \($0.status) \($0.by?.rawValue ?? "-")" } == [
            "two denied api", "one approved api", "two held -", "one held -",
        ])
        let again = router.respond(to: .init(method: "POST", uri: "/pending/one/deny"))
        #expect(again.status == 404)
        #expect((Self.json(again) as? [String: String])?["id"] == "one")
        #expect((Self.json(again) as? [String: String])?["error"]?.contains("unknown, or already decided") == true)
    }

    @Test(
        "wrong methods get 405 with Allow, unknown paths 404, health is ok",
        arguments: [
            ("GET", "/pending/one/approve", 405), ("POST", "/pending", 405), ("DELETE", "/", 405),
            ("POST", "/healthz", 405), ("GET", "/nope", 404), ("POST", "/pending/one/maybe", 404),
            ("GET", "/pending/", 404), ("GET", "/healthz", 200),
        ]
    )
    func methodsAndPaths(method: String, uri: String, status: Int) {
        let router = ControlRouter(supervision: Self.queue([Self.held(id: "one")]), token: nil)
        let response = router.respond(to: .init(method: method, uri: uri))
        #expect(response.status == status)
        #expect(response.contentType == "application/json")
        if status == 405 { #expect(response.headers.contains { $0.0 == "Allow" }) }
        if status == 200 { #expect(response.body == #"{"status":"ok"}"# + "\n") }
    }

    @Test("with a token, every endpoint needs Bearer or Basic; others get 401 with a Basic challenge")
    func authentication() throws {
        let token = try #require(ControlToken("s3cret-token"))
        let router = ControlRouter(supervision: Self.queue([]), token: token)
        let basic = { (pair: String) in "Basic " + Data(pair.utf8).base64EncodedString() }
        let cases: [(String?, Int)] = [
            (nil, 401), ("Bearer s3cret-token", 200), ("bearer s3cret-token", 200), ("Bearer s3cret-toke", 401),
            ("Bearer s3cret-token2", 401), ("Bearer ", 401), (basic("operator:s3cret-token"), 200),
            (basic(":s3cret-token"), 200), (basic("s3cret-token:x"), 401), (basic("s3cret-token"), 401),
            ("Basic !!notbase64", 401), ("Token s3cret-token", 401), ("s3cret-token", 401),
        ]
        for (authorization, status) in cases {
            for uri in ["/healthz", "/pending", "/"] {
                let response = router.respond(to: .init(method: "GET", uri: uri, authorization: authorization))
                #expect(response.status == status, "\(authorization ?? "none") \(uri)")
                if status == 401 {
                    #expect(response.body == #"{"error":"unauthorized"}"# + "\n")
                    #expect(response.headers.first { $0.0 == "WWW-Authenticate" }?.1 == #"Basic realm="egress""#)
                }
            }
        }
        let post = router.respond(to: .init(method: "POST", uri: "/pending/x/approve"))
        #expect(post.status == 401)
    }

    @Test("a browser POST from another origin is refused; same origin and non-browsers pass")
    func crossOrigin() {
        let queue = Self.queue([Self.held(id: "a"), Self.held(id: "b"), Self.held(id: "c")])
        let router = ControlRouter(supervision: queue, token: nil)
        let foreign = router.respond(
            to: .init(method: "POST", uri: "/pending/a/approve", origin: "http://evil.example", host: "127.0.0.1:9090")
        )
        #expect(foreign.status == 403)
        #expect(queue.pending().count == 3)
        let same = router.respond(
            to: .init(
                method: "POST",
                uri: "/pending/a/approve",
                origin: "http://127.0.0.1:9090",
                host: "127.0.0.1:9090"
            )
        )
        #expect(same.status == 200)
        #expect(router.respond(to: .init(method: "POST", uri: "/pending/b/deny")).status == 200)
        #expect(queue.pending().map(\.id) == ["c"])
    }

    @Test("the operator page lists held requests, escapes everything and loads nothing external")
    func page() throws {
        let hostile = Self.held(id: "x1", host: "api.test", path: #"/a?<script>alert("x")</script>&b='1'"#)
        let router = ControlRouter(supervision: Self.queue([hostile, Self.held(id: "x2")]), token: nil)
        let response = router.respond(to: .init(method: "GET", uri: "/"), now: Self.now)
        #expect(response.status == 200)
        #expect(response.contentType.hasPrefix("text/html"))
        let html = response.body
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;b=&#39;1&#39;"))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains(#"data-id="x1" data-decision="approve""#))
        #expect(html.contains(#"data-id="x2" data-decision="deny""#))
        #expect(html.contains("ghp_M7…T4V4"))
        #expect(html.contains("GitHub token (classic)"))
        #expect(html.contains("43 s"))
        #expect(html.contains(#"load("/pending")"#))
        #expect(html.contains(#"data-id="x1" data-decision="approve" data-for="600""#))
        #expect(html.contains(#"<tbody id="rules">"#) && html.contains(#"<tbody id="history">"#))
        #expect(!html.contains("src=\"http"))
        #expect(!html.contains("href=\"http"))
        #expect(response.headers.contains { $0.0 == "Content-Security-Policy" && $0.1.contains("default-src 'none'") })
        let empty = ControlRouter(supervision: Self.queue([]), token: nil).respond(to: .init(method: "GET", uri: "/"))
        #expect(empty.body.contains(#"<p id="empty">No held requests.</p>"#))
    }

    @Test("control addresses parse as unix:PATH or HOST:PORT")
    func addresses() {
        #expect(ControlAddress(parsing: "unix:/run/egress/control.sock") == .unix(path: "/run/egress/control.sock"))
        #expect(ControlAddress(parsing: "127.0.0.1:9090") == .tcp(ListenAddress(host: "127.0.0.1", port: 9090)))
        #expect(ControlAddress(parsing: "[::1]:9090")?.description == "[::1]:9090")
        #expect(ControlAddress(parsing: "unix:") == nil)
        #expect(ControlAddress(parsing: "/run/control.sock") == nil)
        #expect(ControlAddress(parsing: "localhost") == nil)
        #expect(ControlAddress.defaultSocket(stateDirectory: "/s/").description == "unix:/s/control.sock")
        #expect(ControlAddress.defaultSocket(stateDirectory: "/s").description == "unix:/s/control.sock")
    }

    @Test("token files are trimmed; empty, multi-line and missing ones are errors")
    func tokenFiles() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("token")
        try "  abc123\n".write(toFile: path, atomically: true, encoding: .utf8)
        let token = try ControlToken.load(path: path)
        #expect(token.value == "abc123")
        #expect(token.matches("abc123"))
        #expect(!token.matches("abc123\n"))
        try "\n \n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ControlTokenError.self) { try ControlToken.load(path: path) }
        try "one\ntwo\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ControlTokenError.self) { try ControlToken.load(path: path) }
        #expect(throws: ControlTokenError.self) { try ControlToken.load(path: directory.file("missing")) }
    }
}
