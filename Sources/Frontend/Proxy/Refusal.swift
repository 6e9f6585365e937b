import NIOHTTP1

/// A request the proxy answers itself instead of forwarding: the status, the reason the agent and
/// the event log see, and how the request counts in `egress_requests_total`.
struct Refusal: Equatable {
    enum Outcome: String {
        /// Policy said no (routes, DLP, methods the proxy never forwards).
        case blocked
        /// The proxy could not carry the request (malformed, upstream or scanner failure).
        case failed
    }

    var status: HTTPResponseStatus
    var reason: String
    var outcome: Outcome

    init(_ status: HTTPResponseStatus, _ reason: String, outcome: Outcome? = nil) {
        self.status = status
        self.reason = reason
        self.outcome = outcome ?? (status == .forbidden ? .blocked : .failed)
    }
}

// Every failure the request path meets becomes a refusal in one place.

extension UpstreamFailure {
    var refusal: Refusal { Refusal(HTTPResponseStatus(statusCode: status), reason) }
}

extension ScanFailure {
    var refusal: Refusal { Refusal(HTTPResponseStatus(statusCode: status), reason) }
}

extension BodyDecoding.Failure {
    /// A body DLP cannot judge (undecodable, too large) is refused: fail closed.
    var refusal: Refusal { Refusal(.forbidden, reason) }
}

extension DecodedViews.Failure {
    /// Text DLP cannot decode within its bounds is refused: fail closed.
    var refusal: Refusal { Refusal(.forbidden, reason) }
}

extension HeldBytesBudget {
    static let busy = Refusal(.serviceUnavailable, busyReason)
}
