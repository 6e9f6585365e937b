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

    let supervision: SupervisionQueue
    /// Required on every request when set (always on TCP).
    let token: ControlToken?
    /// Served at `GET /metrics` when present.
    let metrics: EgressMetrics?

    public init(supervision: SupervisionQueue, token: ControlToken?, metrics: EgressMetrics? = nil) {
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
        let parts = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        let query = parts.count > 1 ? ControlQuery(String(parts[1])) : ControlQuery("")
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
        case ["rules"]:
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return .json(200, .array(supervision.standingDecisions(now: now).map { Self.json($0, now: now) }))
        case ["history"]:
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return .json(200, .array(supervision.history().map(Self.json)))
        case let parts where parts.count == 3 && parts[0] == "pending" && ["approve", "deny"].contains(parts[2]):
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            if let refusal = Self.crossOriginRefusal(request) { return refusal }
            return settle(id: parts[1], approve: parts[2] == "approve", query: query, now: now)
        case let parts where parts.count == 3 && parts[0] == "rules" && parts[2] == "revoke":
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            if let refusal = Self.crossOriginRefusal(request) { return refusal }
            guard let revoked = supervision.revoke(parts[1], now: now) else {
                return .json(
                    404,
                    .object([
                        ("error", .string("no standing decision with id \(parts[1]) (unknown, revoked or expired)")),
                        ("id", .string(parts[1])),
                    ])
                )
            }
            return .json(200, .object([("id", .string(revoked.id)), ("revoked", .bool(true))]))
        default:
            return .error(404, "not found")
        }
    }

    /// `?for=SECONDS` makes the decision standing; `?by=cli|page|api` says who the operator used.
    private func settle(id: String, approve: Bool, query: ControlQuery, now: Date) -> ControlResponse {
        var by = Decider.api
        if let named = query["by"] {
            guard let decider = Decider(rawValue: named), Decider.operatorClients.contains(decider) else {
                return .error(400, "by=\(named): expected cli, page or api")
            }
            by = decider
        }
        var standingFor: TimeInterval?
        if let text = query["for"] {
            guard !text.isEmpty, text.utf8.count <= 6, text.allSatisfy({ $0.isASCII && $0.isNumber }),
                let seconds = Int(text), seconds >= 1, Double(seconds) <= StandingDecision.longest
            else {
                return .error(400, "for=\(text): expected whole seconds from 1 to \(Int(StandingDecision.longest))")
            }
            standingFor = TimeInterval(seconds)
        }
        let settlement: SupervisionBook.Settlement
        do throws(SupervisionBook.SettleError) {
            settlement = try supervision.decide(id, approve: approve, by: by, standingFor: standingFor, now: now)
        } catch {
            let status = if case .unknown = error { 404 } else { 409 }
            return .json(status, .object([("error", .string(error.description)), ("id", .string(id))]))
        }
        var fields: [(String, JSONValue)] = [
            ("id", .string(id)), ("decision", .string(approve ? "approved" : "denied")),
        ]
        if let rule = settlement.rule { fields.append(("rule", Self.json(rule, now: now))) }
        return .json(200, .object(fields))
    }

    /// One held request as `GET /pending` lists it.
    public static func json(_ held: SupervisionQueue.HeldRequest, now: Date) -> JSONValue {
        .object([
            ("id", .string(held.id)),
            ("route", .string(held.route)),
            ("host", .string(held.host)),
            ("method", .string(held.method)),
            ("path", .string(held.path)),
            ("detectors", .array(held.detectors.map { .string($0) })),
            ("labels", .array(held.labels.map { .string($0) })),
            ("previews", .array(held.previews.map { .string($0) })),
            ("expires_in_s", .int(held.expiresIn(now: now))),
        ])
    }

    /// One standing decision as `GET /rules` lists it.
    public static func json(_ rule: StandingDecision, now: Date) -> JSONValue {
        .object([
            ("id", .string(rule.id)),
            ("decision", .string(rule.verdict.rawValue)),
            ("route", .string(rule.route)),
            ("host", .string(rule.host)),
            ("origin", .string(rule.origin)),
            ("detectors", .array(rule.detectors.map { .string($0) })),
            ("expires_in_s", .int(rule.expiresIn(now: now))),
            ("created_by", .string(rule.createdBy.rawValue)),
            ("from_request", .string(rule.fromRequest)),
            ("hits", .int(rule.hits)),
        ])
    }

    /// One decision as `GET /history` lists it.
    public static func json(_ entry: DecisionHistory.Entry) -> JSONValue {
        .object([
            ("at", .string(Timestamp.iso8601(entry.at))),
            ("status", .string(entry.status)),
            ("id", .string(entry.id)),
            ("by", entry.by.map { .string($0.rawValue) } ?? .null),
            ("rule", entry.rule.map { .string($0) } ?? .null),
            ("host", .string(entry.host)),
            ("method", .string(entry.method)),
            ("path", .string(entry.path)),
            ("detectors", .array(entry.detectors.map { .string($0) })),
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
