import Foundation

/// The control API without sockets (README, "Operating the sidecar"): a request's method, target and a few headers in, a
/// complete response out. Authentication, routing and rendering live here; the channel handler only
/// moves bytes.
public struct ControlRouter: Sendable {
    /// The parts of a request the router looks at.
    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var authorization: String?
        /// `Origin` and `Host`, to refuse cross-site POSTs (a browser with cached Basic credentials).
        public var origin: String?
        public var host: String?

        public init(
            method: String,
            uri: String,
            authorization: String? = nil,
            origin: String? = nil,
            host: String? = nil
        ) {
            self.method = method
            self.uri = uri
            self.authorization = authorization
            self.origin = origin
            self.host = host
        }
    }

    let supervision: any SupervisionControl
    /// Required on every request when set (always on TCP).
    let token: ControlToken?
    /// Served at `GET /metrics` when present.
    let metrics: EgressMetrics?

    public init(supervision: any SupervisionControl, token: ControlToken?, metrics: EgressMetrics? = nil) {
        self.supervision = supervision
        self.token = token
        self.metrics = metrics
    }

    static let unauthorized = ControlResponse.error(
        401,
        "unauthorized",
        headers: [("WWW-Authenticate", #"Basic realm="egress""#)]
    )

    public func respond(to request: Request, now: Date = Date()) -> ControlResponse {
        if let token, !token.authorizes(request.authorization) { return Self.unauthorized }
        let path =
            request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? ""
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch segments {
        case [""]:
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return ControlResponse(
                status: 200,
                contentType: "text/html; charset=utf-8",
                headers: [("Content-Security-Policy", ControlPage.contentSecurityPolicy)],
                body: ControlPage.render(supervision.pending(), now: now)
            )
        case ["metrics"] where metrics != nil:
            guard request.method == "GET", let metrics else { return Self.methodNotAllowed("GET") }
            return ControlResponse(
                status: 200,
                contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: metrics.exposition(heldRequests: supervision.pending().count)
            )
        case ["healthz"]:
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return .json(200, .object([("status", .string("ok"))]))
        case ["pending"]:
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return .json(200, .array(supervision.pending().map { Self.json($0, now: now) }))
        case let parts where parts.count == 3 && parts[0] == "pending" && ["approve", "deny"].contains(parts[2]):
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            if let refusal = Self.crossOriginRefusal(request) { return refusal }
            return settle(id: parts[1], approve: parts[2] == "approve")
        default:
            return .error(404, "not found")
        }
    }

    private func settle(id: String, approve: Bool) -> ControlResponse {
        do throws(SupervisionQueue.SettleError) {
            if approve { try supervision.approve(id) } else { try supervision.deny(id) }
        } catch {
            return .json(404, .object([("error", .string(error.description)), ("id", .string(id))]))
        }
        return .json(200, .object([("id", .string(id)), ("decision", .string(approve ? "approved" : "denied"))]))
    }

    /// One held request as `GET /pending` lists it.
    public static func json(_ held: SupervisionQueue.HeldRequest, now: Date) -> JSONValue {
        .object([
            ("id", .string(held.id)),
            ("host", .string(held.host)),
            ("method", .string(held.method)),
            ("path", .string(held.path)),
            ("detectors", .array(held.detectors.map { .string($0) })),
            ("labels", .array(held.labels.map { .string($0) })),
            ("previews", .array(held.previews.map { .string($0) })),
            ("expires_in_s", .int(held.expiresIn(now: now))),
        ])
    }

    private static func methodNotAllowed(_ allowed: String) -> ControlResponse {
        .error(405, "method not allowed", headers: [("Allow", allowed)])
    }

    /// A browser sends `Origin` on POSTs; one naming another site than the one it is talking to is a
    /// cross-site request riding on cached credentials, and is refused. Clients without `Origin`
    /// (curl, `egress supervise`) are not browsers and pass.
    private static func crossOriginRefusal(_ request: Request) -> ControlResponse? {
        guard let origin = request.origin else { return nil }
        guard let host = request.host, origin == "http://\(host)" || origin == "https://\(host)" else {
            return .error(403, "cross-origin request refused")
        }
        return nil
    }
}
