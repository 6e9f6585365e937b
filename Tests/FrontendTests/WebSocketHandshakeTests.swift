import NIOHTTP1
import Testing

@testable import Frontend

/// The opening handshake as admission judges it and as the upstream must answer it (RFC 6455 §4).
@Suite("WebSocket handshake")
struct WebSocketHandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func head(
        _ method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        replacing replaced: [(String, String?)] = []
    ) -> HTTPRequestHead {
        var headers: HTTPHeaders = [
            "upgrade": "websocket", "connection": "keep-alive, Upgrade", "sec-websocket-version": "13",
            "sec-websocket-key": key, "sec-websocket-protocol": "chat, superchat",
        ]
        for (name, value) in replaced {
            headers.remove(name: name)
            if let value { headers.add(name: name, value: value) }
        }
        return HTTPRequestHead(version: version, method: method, uri: "/ws", headers: headers)
    }

    @Test func aValidUpgradeIsRecognisedWithItsOfferedSubprotocols() {
        #expect(WebSocketHandshake.judge(Self.head()) == .upgrade(WebSocketHandshake(key: Self.key, subprotocols: ["chat", "superchat"])))
        // Any other upgrade is not ours: hop-by-hop, dropped on the way.
        #expect(WebSocketHandshake.judge(Self.head(replacing: [("upgrade", "h2c")])) == .notAnUpgrade)
        #expect(WebSocketHandshake.judge(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")) == .notAnUpgrade)
    }

    @Test(arguments: [
        (head(.POST), "GET over HTTP/1.1"),
        (head(version: .http1_0), "GET over HTTP/1.1"),
        (head(replacing: [("connection", "keep-alive")]), "Connection: Upgrade"),
        (head(replacing: [("sec-websocket-version", "8")]), "Version: 13"),
        (head(replacing: [("sec-websocket-key", nil)]), "Sec-WebSocket-Key"),
        (head(replacing: [("sec-websocket-key", "c2hvcnQ=")]), "Sec-WebSocket-Key"),
        (head(replacing: [("content-length", "5")]), "body"),
        (head(replacing: [("transfer-encoding", "chunked")]), "body"),
        // NIO's parser would not see an upgrade in `Upgrade<TAB>` and would read on as HTTP.
        (head(replacing: [("connection", "Upgrade\t")]), "tab"),
        (head(replacing: [("upgrade", "websocket\t")]), "tab"),
    ])
    func aBrokenUpgradeIsMalformed(_ head: HTTPRequestHead, _ problem: String) {
        guard case .malformed(let what) = WebSocketHandshake.judge(head) else {
            Issue.record("accepted: \(head)")
            return
        }
        #expect(what.contains(problem), "\(what)")
    }

    @Test func theUpstreamHeadOffersNoExtension() {
        let handshake = WebSocketHandshake(key: Self.key, subprotocols: [])
        var headers: HTTPHeaders = ["sec-websocket-extensions": "permessage-deflate; client_max_window_bits", "host": "x"]
        handshake.prepareUpstream(&headers)
        #expect(!headers.contains(name: "sec-websocket-extensions"))
        #expect(headers["upgrade"] == ["websocket"])
        #expect(headers["connection"] == ["Upgrade"])
    }

    static let accepted = HTTPResponseHead(
        version: .http1_1,
        status: .switchingProtocols,
        headers: [
            "upgrade": "websocket", "connection": "Upgrade", "sec-websocket-accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "sec-websocket-protocol": "chat", "set-cookie": "a=b", "keep-alive": "timeout=5",
        ]
    )

    @Test func anAcceptingAnswerBecomesTheAgentsHead() throws {
        let handshake = WebSocketHandshake(key: Self.key, subprotocols: ["chat"])
        // RFC 6455 §1.3's example.
        #expect(handshake.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let head = try handshake.agentHead(for: Self.accepted).get()
        #expect(head.status == .switchingProtocols)
        #expect(head.headers["sec-websocket-protocol"] == ["chat"])
        #expect(head.headers["set-cookie"] == ["a=b"])
        #expect(!head.headers.contains(name: "keep-alive"), "hop-by-hop headers are this hop's")
        #expect(head.headers["upgrade"] == ["websocket"])
    }

    @Test func answersThatBreakTheHandshakeAreRefused() {
        let handshake = WebSocketHandshake(key: Self.key, subprotocols: ["chat"])
        func with(_ name: String, _ value: String?) -> HTTPResponseHead {
            var head = Self.accepted
            head.headers.remove(name: name)
            if let value { head.headers.add(name: name, value: value) }
            return head
        }
        let broken: [(HTTPResponseHead, String)] = [
            (with("sec-websocket-accept", "x"), "Accept"),
            (with("sec-websocket-accept", nil), "Accept"),
            (with("sec-websocket-extensions", "permessage-deflate"), "extension"),
            (with("sec-websocket-protocol", "other"), "subprotocol"),
            (with("upgrade", "h2c"), "websocket"),
            (with("connection", "Upgrade\t"), "tab"),
            (HTTPResponseHead(version: .http1_1, status: .ok), "200"),
        ]
        for (answer, problem) in broken {
            guard case .failure(let failure) = handshake.agentHead(for: answer) else {
                Issue.record("accepted: \(answer)")
                continue
            }
            #expect(failure.reason.contains(problem), "\(failure.reason)")
        }
    }
}
