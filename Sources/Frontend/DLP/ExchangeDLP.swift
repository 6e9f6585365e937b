import Detectors
import EgressRoutes
import NIOHTTP1

/// The DLP a route asks of one exchange, resolved to detector ids and effective policies.
struct ExchangeDLP: Sendable, Equatable {
    var outboundDetectors: [String]
    var inboundDetectors: [String]
    var outboundAction: OutboundAction
    var inboundAction: InboundAction
    /// The document severity from which `inboundAction` applies; lower findings are only logged.
    var inboundThreshold: InjectionSeverity
    /// The header holding the credential the proxy injected: never scanned.
    var injectedHeader: String?
    /// The route's host pattern as routes.yaml writes it, and the exchange's `scheme://host:port`:
    /// what a standing decision is made for.
    var route: String
    var origin = ""

    init(route: Route) {
        self.route = route.host.description
        outboundDetectors = Self.resolve(route.dlp.outboundDetectors, direction: .outbound)
        inboundDetectors = Self.resolve(route.dlp.inboundDetectors, direction: .inbound)
        outboundAction = route.dlp.effectiveOutboundOnMatch
        inboundAction = route.dlp.effectiveInboundOnMatch
        inboundThreshold = InjectionSeverity(name: route.dlp.effectiveInboundThreshold.rawValue) ?? .medium
        injectedHeader = route.auth.map { $0.scheme == .xApiKey ? "x-api-key" : "authorization" }
    }

    private static func resolve(_ selection: DetectorSelection, direction: ScanDirection) -> [String] {
        switch selection {
        case .defaultSet: DetectorCatalog.defaultIDs(for: direction)
        case .off: []
        case .only(let ids): ids
        }
    }

    /// Inbound scanning applies to text: git pack data and other binary payloads are not scanned.
    func scansResponse(_ head: HTTPResponseHead, requestMethod: HTTPMethod) -> Bool {
        guard !inboundDetectors.isEmpty, requestMethod != .HEAD,
            head.status.code != 204, head.status.code != 304, head.status.code / 100 != 1
        else { return false }
        // Unlabelled content could be anything, and of several labels a client may honour any one
        // (a binary type first would otherwise hide a text one behind it): scan it.
        let types = head.headers["content-type"]
        guard types.count == 1, let type = types.first?.lowercased() else { return true }
        if type.hasPrefix("text/") { return true }
        return [
            "json", "xml", "javascript", "ecmascript", "event-stream", "x-www-form-urlencoded", "yaml",
            "markdown", "graphql",
        ].contains { type.contains($0) }
    }
}

/// Reasons for DLP verdicts (README, "Request handling"): they name the secret type, never the secret.
enum DLPReason {
    static func outbound(_ detectorID: String) -> String {
        "egress DLP: \(label(detectorID)) found in request"
    }

    static let inbound = "egress DLP: possible prompt injection detected"

    /// Inbound findings judged against a route's threshold: whether the route's policy applies,
    /// and the reason, naming the document's severity and its most severe finding, e.g.
    /// `egress DLP: possible prompt injection detected (high: hidden HTML text addressed to an AI)`;
    /// below the threshold the reason says so.
    static func inbound(
        _ detectorIDs: [String],
        threshold: InjectionSeverity
    ) -> (reachesThreshold: Bool, reason: String) {
        let score = InjectionAssessment.score(detectorIDs) ?? .low
        let worst = detectorIDs.max { (DetectorCatalog.severity(of: $0) ?? .low) < (DetectorCatalog.severity(of: $1) ?? .low) }
        let detail = "\(score): \(worst.map(label) ?? "unknown")"
        return score >= threshold
            ? (true, "\(inbound) (\(detail))")
            : (false, "egress DLP: possible prompt injection below the route's threshold (\(detail))")
    }

    static func label(_ detectorID: String) -> String {
        DetectorCatalog.definition(id: detectorID)?.label ?? detectorID
    }
}
