import Crypto
import Foundation
import NIOHTTP1

/// RFC 6455 §4: the agent's opening handshake, judged at admission, and the upstream's answer,
/// judged before anything is relayed (README, "Streaming"). The proxy offers the upstream no
/// extension: `permessage-deflate` is negotiated away, so every message it relays is plain bytes
/// DLP can scan.
struct WebSocketHandshake: Equatable, Sendable {
    /// `Sec-WebSocket-Key`: the upstream's `Sec-WebSocket-Accept` must answer it.
    let key: String
    /// `Sec-WebSocket-Protocol` values the agent offered; the upstream may choose one of them.
    let subprotocols: [String]

    enum Judgement: Equatable {
        /// No `Upgrade: websocket`: an ordinary request (any other `Upgrade` is hop-by-hop and dropped).
        case notAnUpgrade
        case upgrade(WebSocketHandshake)
        /// An upgrade to WebSocket that breaks RFC 6455, or an `Upgrade` that NIO's parser and this
        /// judgement could read differently (what, in words).
        case malformed(String)
    }

    /// RFC 6455 §1.3.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    static func judge(_ head: HTTPRequestHead) -> Judgement {
        guard head.headers.contains(name: "upgrade") else { return .notAnUpgrade }
        guard !Self.hasTab(head.headers) else { return .malformed("a tab in its Connection or Upgrade header") }
        guard Self.tokens(head.headers, "upgrade").contains("websocket") else { return .notAnUpgrade }
        guard head.method == .GET, head.version == .http1_1 else {
            return .malformed("a WebSocket upgrade must be a GET over HTTP/1.1")
        }
        guard Self.tokens(head.headers, "connection").contains("upgrade") else {
            return .malformed("a WebSocket upgrade without Connection: Upgrade")
        }
        guard head.headers["sec-websocket-version"] == ["13"] else {
            return .malformed("a WebSocket upgrade must say Sec-WebSocket-Version: 13")
        }
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1, let key = keys.first, let nonce = Data(base64Encoded: key), nonce.count == 16 else {
            return .malformed("a WebSocket upgrade needs one Sec-WebSocket-Key of 16 base64 bytes")
        }
        // The upgraded connection carries frames, not a body: bytes after the head are frames.
        if head.headers.contains(name: "transfer-encoding") || head.headers["content-length"].contains(where: { $0 != "0" }) {
            return .malformed("a WebSocket upgrade with a body")
        }
        let subprotocols = head.headers["sec-websocket-protocol"].flatMap { value in
            value.split(separator: ",").map { $0.trimmingASCIISpaces() }.filter { !$0.isEmpty }
        }
        return .upgrade(WebSocketHandshake(key: key, subprotocols: subprotocols))
    }

    /// The `Sec-WebSocket-Accept` the upstream must send.
    var expectedAccept: String {
        Data(Insecure.SHA1.hash(data: Data((key + Self.acceptGUID).utf8))).base64EncodedString()
    }

    /// The handshake headers on the head going upstream (hop-by-hop headers were stripped, the
    /// credential injected): `Upgrade` and `Connection` for this hop, and no extension offered.
    func prepareUpstream(_ headers: inout HTTPHeaders) {
        headers.remove(name: "sec-websocket-extensions")
        headers.replaceOrAdd(name: "connection", value: "Upgrade")
        headers.replaceOrAdd(name: "upgrade", value: "websocket")
    }

    /// The head the agent gets when the upstream accepted, or what is wrong with the upstream's answer.
    func agentHead(for upstream: HTTPResponseHead) -> Result<HTTPResponseHead, HandshakeFailure> {
        guard upstream.status == .switchingProtocols else { return .failure(.init("it answered \(upstream.status.code)")) }
        guard !Self.hasTab(upstream.headers) else { return .failure(.init("a tab in its Connection or Upgrade header")) }
        guard Self.tokens(upstream.headers, "upgrade") == ["websocket"],
            Self.tokens(upstream.headers, "connection").contains("upgrade")
        else { return .failure(.init("its 101 does not switch to websocket")) }
        guard upstream.headers["sec-websocket-accept"] == [expectedAccept] else {
            return .failure(.init("its Sec-WebSocket-Accept does not answer the key"))
        }
        // Nothing was offered: an extension it turns on would make frames the proxy cannot read.
        guard !upstream.headers.contains(name: "sec-websocket-extensions") else {
            return .failure(.init("it turned on an extension that was not offered"))
        }
        let chosen = upstream.headers["sec-websocket-protocol"]
        guard chosen.isEmpty || (chosen.count == 1 && subprotocols.contains(chosen[0])) else {
            return .failure(.init("it chose a subprotocol the agent did not offer"))
        }
        var headers = upstream.headers
        HopByHopHeaders.strip(&headers)
        headers.remove(name: "content-length")
        headers.add(name: "upgrade", value: "websocket")
        headers.add(name: "connection", value: "Upgrade")
        return .success(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))
    }

    struct HandshakeFailure: Error, Equatable {
        var problem: String
        init(_ problem: String) { self.problem = problem }

        var reason: String { "egress: upstream refused the WebSocket handshake: \(problem)" }
    }

    /// The lowercased comma-separated tokens of every `name` header, spaces around them trimmed.
    ///
    /// This must read `Connection` as NIO's parser (llhttp) does, which decides whether it stops
    /// reading HTTP after the head: were it to read on, it would hand the upgraded bytes on as HTTP.
    /// llhttp skips spaces around a token but takes a tab after one as part of it, so values with
    /// tabs are refused outright (``hasTab(_:)``) rather than guessed at.
    private static func tokens(_ headers: HTTPHeaders, _ name: String) -> [String] {
        headers[name].flatMap { value in
            value.split(separator: ",").map { token in
                var token = Substring(token)
                while token.first == " " { token = token.dropFirst() }
                while token.last == " " { token = token.dropLast() }
                return token.lowercased()
            }.filter { !$0.isEmpty }
        }
    }

    private static func hasTab(_ headers: HTTPHeaders) -> Bool {
        (headers["connection"] + headers["upgrade"]).contains { $0.utf8.contains(UInt8(ascii: "\t")) }
    }
}
