import Foundation

/// "Approve (or deny) this route + host + detectors for N minutes" (README, "Standing decisions"):
/// made from a held request, it settles later matching requests at once.
///
/// A decision covers only what the operator saw: the same route, the same exact host, and findings
/// from no detector beyond the ones the held request had. It never widens to another host or
/// detector, and it ends at `expiresAt`.
public struct StandingDecision: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Equatable, Codable {
        case approve
        case deny
    }

    public var id: String
    public var verdict: Verdict
    /// The route's host pattern as routes.yaml writes it, e.g. `*.github.com`.
    public var route: String
    /// The request's host, lower-cased.
    public var host: String
    /// Sorted, without repeats.
    public var detectors: [String]
    public var createdAt: Date
    public var expiresAt: Date
    public var createdBy: Decider
    /// The held request it was made from.
    public var fromRequest: String
    /// Requests it has settled since it was made (kept in memory; persisted when written anyway).
    public var hits: Int

    public init(
        id: String,
        verdict: Verdict,
        route: String,
        host: String,
        detectors: [String],
        createdAt: Date,
        expiresAt: Date,
        createdBy: Decider,
        fromRequest: String,
        hits: Int = 0
    ) {
        self.id = id
        self.verdict = verdict
        self.route = route
        self.host = host.lowercased()
        self.detectors = Array(Set(detectors)).sorted()
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.fromRequest = fromRequest
        self.hits = hits
    }

    /// Whether this decision settles a request on `route` to `host` whose findings came from `detectors`.
    public func covers(route: String, host: String, detectors: [String], now: Date) -> Bool {
        now < expiresAt && self.route == route && self.host == host.lowercased()
            && !detectors.isEmpty && Set(detectors).isSubset(of: self.detectors)
    }

    public func expiresIn(now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.up)))
    }

    /// Longest a standing decision may last: a day. Longer is a routes.yaml change, not a click.
    public static let longest: TimeInterval = 86_400
}
