import EgressRoutes
import NIOHTTP1
import Testing

@testable import Frontend

/// Admission without sockets: a head, the connection's mode and the policy in, the decision out.
@Suite("request admission")
struct RequestAdmissionTests {
    static let policy = Policy(
        routes: try! RoutesConfig.parse(
            yaml: """
                routes:
                  - host: api.test
                    auth_scheme: bearer
                    token_env: TOKEN
                    matches:
                      - paths: [{value: /ok/}]
                    dlp: {outbound_detectors: false, inbound_detectors: false}
                  - host: scan.test
                """,
            file: "routes.yaml"
        ),
        tokens: try! TokenStore.resolve(
            try! RoutesConfig.parse(
                yaml: "routes:\n  - host: api.test\n    auth_scheme: bearer\n    token_env: TOKEN\n",
                file: "routes.yaml"
            ),
            environment: ["TOKEN": "operator-token"]
        )
    )

    static func environment(own: Set<String> = [], scanner: Bool = true, maxScanBytes: Int = 1_000) -> RequestAdmission.Environment {
        RequestAdmission.Environment(
            isOwnAddress: { host, port in own.contains("\(host):\(port)") },
            scannerAvailable: scanner,
            maxScanBytes: maxScanBytes
        )
    }

    static func head(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    static func decide(
        _ head: HTTPRequestHead,
        mode: ProxyRequestHandler.Mode = .forwardProxy,
        environment: RequestAdmission.Environment = Self.environment()
    ) -> RequestAdmission {
        RequestAdmission.decide(head, mode: mode, policy: policy, environment: environment)
    }

    static let tunnel = UpstreamTarget(host: "api.test", port: 443, isTLS: true)

    @Test func allowedRequestInATunnelIsForwardedWithTheCredentialAndExplicitFraming() throws {
        let decision = Self.decide(
            Self.head(.POST, "/ok/x?q=1", [("Host", "evil.test"), ("Authorization", "Bearer agent"), ("Content-Length", "3"), ("Connection", "content-length")]),
            mode: .tunnel(Self.tunnel)
        )
        guard case .forward(let plan) = decision else {
            Issue.record("expected a forward, got \(decision)")
            return
        }
        #expect(plan.context == RequestContext(host: "api.test", method: "POST", path: "/ok/x"))
        #expect(plan.upstreamHead.uri == "/ok/x?q=1")
        #expect(plan.upstreamHead.headers["host"] == ["api.test"])
        #expect(plan.upstreamHead.headers["authorization"] == ["Bearer operator-token"])
        #expect(plan.upstreamHead.headers["content-length"] == ["3"])
        #expect(!plan.expectsContinue)
    }

    @Test func theHeadsVersionMustBeTheTransports() {
        var http2Head = Self.head(.GET, "/ok/x", [("host", "api.test")])
        http2Head.version = .http2
        // An HTTP/1 request line saying HTTP/2.0 would get a response framed for a stream.
        guard case .refuse(let refusal, _, let close) = Self.decide(http2Head, mode: .tunnel(Self.tunnel)) else {
            Issue.record("HTTP/2.0 on an HTTP/1 connection was not refused")
            return
        }
        #expect(refusal.status == .httpVersionNotSupported)
        #expect(close)
        var onStream = Self.environment()
        onStream.onHTTP2Stream = true
        guard case .forward = Self.decide(http2Head, mode: .tunnel(Self.tunnel), environment: onStream) else {
            Issue.record("an HTTP/2 stream's request was not forwarded")
            return
        }
        guard case .refuse = Self.decide(Self.head(.GET, "/ok/x"), mode: .tunnel(Self.tunnel), environment: onStream) else {
            Issue.record("HTTP/1.1 on an HTTP/2 stream was not refused")
            return
        }
    }

    @Test func refusalsNameTheirReasonAndWhetherTheConnectionCloses() {
        let cases: [(HTTPRequestHead, ProxyRequestHandler.Mode, RequestAdmission)] = [
            (
                Self.head(.TRACE, "/ok/x"), .tunnel(Self.tunnel),
                .refuse(Refusal(.methodNotAllowed, "egress: TRACE is not allowed", outcome: .blocked),
                        RequestContext(host: "", method: "TRACE", path: "/ok/x"), closeConnection: true)
            ),
            (
                Self.head(.GET, "/forbidden"), .tunnel(Self.tunnel),
                .refuse(Refusal(.forbidden, "egress: no route match for GET /forbidden on api.test"),
                        RequestContext(host: "api.test", method: "GET", path: "/forbidden"), closeConnection: false)
            ),
            (
                Self.head(.GET, "http://api.test/ok/x"), .forwardProxy,
                .refuse(Refusal(.forbidden, "egress: refusing to send credentials over plain http"),
                        RequestContext(host: "api.test", method: "GET", path: "/ok/x"), closeConnection: false)
            ),
            (
                Self.head(.GET, "/ok/x"), .forwardProxy,
                .refuse(Refusal(.badRequest, "egress: not a proxy request (use an absolute URL or CONNECT)"),
                        RequestContext(host: "", method: "GET", path: "/ok/x"), closeConnection: false)
            ),
            (
                Self.head(.CONNECT, "evil.test:443"), .forwardProxy,
                .refuse(Refusal(.forbidden, "egress: host not allowed: evil.test"),
                        RequestContext(host: "evil.test", method: "CONNECT", path: "evil.test:443"), closeConnection: true)
            ),
            (
                Self.head(.CONNECT, "api.test:443"), .forwardProxy,
                .openTunnel(Self.tunnel, RequestContext(host: "api.test", method: "CONNECT", path: "api.test:443"))
            ),
            (
                Self.head(.GET, "https://evil.test/x"), .tunnel(Self.tunnel),
                .refuse(Refusal(.badRequest, "egress: request target does not belong to api.test"),
                        RequestContext(host: "api.test", method: "GET", path: "https://evil.test/x"), closeConnection: false)
            ),
        ]
        for (head, mode, expected) in cases {
            #expect(Self.decide(head, mode: mode) == expected, "\(head.method) \(head.uri)")
        }
    }

    @Test func ownAddressesAreRefusedBeforeRouting() {
        let own = Self.environment(own: ["127.0.0.1:8080"])
        #expect(
            Self.decide(Self.head(.CONNECT, "127.0.0.1:8080"), environment: own)
                == .refuse(Refusal(.forbidden, RequestAdmission.ownAddressReason),
                           RequestContext(host: "127.0.0.1:8080", method: "CONNECT", path: "127.0.0.1:8080"), closeConnection: true)
        )
        guard case .refuse(let refusal, _, _) = Self.decide(Self.head(.GET, "http://127.0.0.1:8080/"), environment: own) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.reason == RequestAdmission.ownAddressReason)
    }

    @Test func dlpRoutesNeedAScannerAndBoundTheirBodies() {
        let noScanner = Self.decide(Self.head(.GET, "/"), mode: .tunnel(UpstreamTarget(host: "scan.test", port: 443, isTLS: true)), environment: Self.environment(scanner: false))
        guard case .refuse(let unavailable, _, _) = noScanner else {
            Issue.record("expected a refusal, got \(noScanner)")
            return
        }
        #expect(unavailable.status == .serviceUnavailable)
        let tooLarge = Self.decide(
            Self.head(.POST, "/", [("Content-Length", "1001")]),
            mode: .tunnel(UpstreamTarget(host: "scan.test", port: 443, isTLS: true))
        )
        guard case .refuse(let large, _, _) = tooLarge else {
            Issue.record("expected a refusal, got \(tooLarge)")
            return
        }
        #expect(large.status == .forbidden)
        #expect(large.outcome == .blocked)
    }
}
