import EgressRoutes
import NIOHTTP1

/// The decision on one agent request head, as a pure function of the head, the connection's mode
/// and the policy in force (docs/ARCHITECTURE.md, "One request's path", steps 2–5). No sockets, no
/// clocks: `ProxyRequestHandler` performs what it returns, and the tests call it directly.
enum RequestAdmission: Equatable {
    /// Answer the agent with a refusal. `closeConnection` when the request's framing or target is
    /// too broken to read the next one safely (the handler also closes for `Connection: close`).
    case refuse(Refusal, RequestContext, closeConnection: Bool)
    /// An allowed CONNECT: answer 200 and terminate TLS for `target`.
    case openTunnel(UpstreamTarget, RequestContext)
    /// Forward to the upstream, under `plan`.
    case forward(ForwardPlan)

    struct ForwardPlan: Equatable {
        var target: UpstreamTarget
        var context: RequestContext
        var route: Route
        var dlp: ExchangeDLP
        /// The head the upstream gets: hop-by-hop headers gone, framing explicit, credential injected.
        var upstreamHead: HTTPRequestHead
        /// The agent sent `Expect: 100-continue`: the proxy answers it.
        var expectsContinue: Bool
        /// The agent asks to upgrade to WebSocket (``WebSocketHandshake``).
        var webSocket: WebSocketHandshake? = nil
    }

    /// What admission needs besides the head, the mode and the policy.
    struct Environment {
        /// Whether a numeric target is one of the proxy's own listeners (``OwnListeners``).
        var isOwnAddress: (_ host: String, _ port: Int) -> Bool
        /// Whether a scanner pool exists to serve routes that need DLP.
        var scannerAvailable: Bool
        /// `--max-scan-bytes`.
        var maxScanBytes: Int
        /// The request came on an HTTP/2 stream (its head says 2.0); otherwise on HTTP/1.x.
        var onHTTP2Stream = false
    }

    static let ownAddressReason = "egress: requests to the proxy itself are not allowed"

    static func decide(
        _ head: HTTPRequestHead,
        mode: ProxyRequestHandler.Mode,
        policy: Policy,
        environment: Environment
    ) -> RequestAdmission {
        let method = head.method.rawValue
        // The version decides framing and keep-alive for the response: it must be the transport's.
        // NIO's HTTP/1 parser also reads `HTTP/2.0` on a request line.
        guard head.version.major == (environment.onHTTP2Stream ? 2 : 1) else {
            return .refuse(
                Refusal(.httpVersionNotSupported, "egress: HTTP/\(head.version.major).\(head.version.minor) on an HTTP/\(environment.onHTTP2Stream ? 2 : 1) connection"),
                RequestContext(host: "", method: method, path: head.uri),
                closeConnection: true
            )
        }
        if let refusal = RequestScreening.refusal(for: head) {
            return .refuse(refusal, RequestContext(host: "", method: method, path: head.uri), closeConnection: true)
        }
        let target: UpstreamTarget
        let originForm: String
        switch mode {
        case .forwardProxy where head.method == .CONNECT:
            return decideConnect(head, policy: policy, environment: environment)
        case .forwardProxy:
            switch RequestTargetParser.parseAbsoluteForm(head.uri) {
            case .success(let parsed):
                (target, originForm) = parsed
            case .failure(let failure):
                let reason =
                    switch failure {
                    case .userinfo: "egress: credentials in the request URL are not allowed"
                    case .unsupportedScheme: "egress: only http and https URLs can be proxied"
                    case .malformed: "egress: not a proxy request (use an absolute URL or CONNECT)"
                    }
                return .refuse(
                    Refusal(.badRequest, reason),
                    RequestContext(host: "", method: method, path: head.uri),
                    closeConnection: false
                )
            }
        case .tunnel(let tunnel):
            guard let path = RequestTargetParser.originForm(head.uri, tunnel: tunnel) else {
                return .refuse(
                    Refusal(.badRequest, "egress: request target does not belong to \(tunnel)"),
                    RequestContext(host: tunnel.description, method: method, path: head.uri),
                    closeConnection: false
                )
            }
            target = tunnel
            originForm = path
        }
        let context = RequestContext(
            host: target.description,
            method: method,
            path: String(originForm.prefix { $0 != "?" })
        )
        func refuse(_ refusal: Refusal) -> RequestAdmission { .refuse(refusal, context, closeConnection: false) }

        if environment.isOwnAddress(target.host, target.port) {
            return refuse(Refusal(.forbidden, ownAddressReason))
        }
        let facts = RequestFacts(
            method: method,
            target: originForm,
            headers: head.headers.map { ($0.name, $0.value) }
        )
        let route: Route
        switch policy.table.decide(host: target.host, port: target.port, isTLS: target.isTLS, request: facts) {
        case .deny(let reason):
            return refuse(Refusal(.forbidden, reason))
        case .allow(let index):
            route = policy.routes.routes[index]
        }
        if route.auth != nil && !target.isTLS {
            return refuse(Refusal(.forbidden, "egress: refusing to send credentials over plain http"))
        }
        var webSocket: WebSocketHandshake?
        switch WebSocketHandshake.judge(head) {
        case .notAnUpgrade: break
        case .upgrade(let handshake): webSocket = handshake
        case .malformed(let problem):
            return .refuse(Refusal(.badRequest, "egress: malformed WebSocket handshake: \(problem)"), context, closeConnection: true)
        }
        var dlp = ExchangeDLP(route: route)
        dlp.origin = target.origin
        let needsScanner =
            !dlp.outboundDetectors.isEmpty || (!dlp.inboundDetectors.isEmpty && dlp.inboundAction == .block)
        if needsScanner && !environment.scannerAvailable {
            return refuse(Refusal(.serviceUnavailable, ScanFailure.unavailable.reason))
        }
        if !dlp.outboundDetectors.isEmpty, case .contentLength(let length)? = RequestBodyFraming(head),
            length > environment.maxScanBytes
        {
            return refuse(Refusal(.forbidden, BodyDecoding.Failure.tooLarge(limit: environment.maxScanBytes).reason))
        }
        let credential = route.auth.flatMap { policy.tokens.credential(for: $0) }
        var upstreamHead = UpstreamRequestBuilder.head(
            from: head,
            originForm: originForm,
            target: target,
            credential: credential
        )
        if !dlp.inboundDetectors.isEmpty { BodyDecoding.narrowAcceptEncoding(&upstreamHead.headers) }
        webSocket?.prepareUpstream(&upstreamHead.headers)
        return .forward(
            ForwardPlan(
                target: target,
                context: context,
                route: route,
                dlp: dlp,
                upstreamHead: upstreamHead,
                expectsContinue: UpstreamRequestBuilder.expectsContinue(head),
                webSocket: webSocket
            )
        )
    }

    /// CONNECT refusals close the connection: what follows the head would be the tunnel's bytes.
    private static func decideConnect(
        _ head: HTTPRequestHead,
        policy: Policy,
        environment: Environment
    ) -> RequestAdmission {
        guard let (host, port) = RequestTargetParser.parseAuthority(head.uri[...], defaultPort: 443) else {
            return .refuse(
                Refusal(.badRequest, "egress: malformed CONNECT target"),
                RequestContext(host: "", method: "CONNECT", path: head.uri),
                closeConnection: true
            )
        }
        let target = UpstreamTarget(host: host, port: port, isTLS: true)
        let context = RequestContext(host: target.description, method: "CONNECT", path: head.uri)
        if environment.isOwnAddress(host, port) {
            return .refuse(Refusal(.forbidden, ownAddressReason), context, closeConnection: true)
        }
        guard policy.table.route(forHost: host, port: port, isTLS: true) != nil else {
            // Refused before any certificate is minted.
            return .refuse(Refusal(.forbidden, "egress: host not allowed: \(target)"), context, closeConnection: true)
        }
        return .openTunnel(target, context)
    }
}
