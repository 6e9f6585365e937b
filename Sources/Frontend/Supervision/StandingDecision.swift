import Foundation

/// "Approve (or deny) this route + host + detectors for N minutes" (README, "Standing decisions"):
/// made from a held request, it settles later matching requests at once.
///
/// A decision covers only what the operator saw: the same route, the same origin (scheme, exact
/// host and port: an approve over https never covers plain http), and — for an approve — findings
/// from no detector beyond the ones the held request had. A deny covers any request with at least
/// one of its detectors, so adding another finding cannot slip past it. It ends at `expiresAt`.
public struct StandingDecision: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Equatable, Codable {
        case approve
        case deny
    }

    public var id: String
    public var verdict: Verdict
    /// The route's host pattern as routes.yaml writes it, e.g. `*.github.com`.
    public var route: String
    /// The request's host, lower-cased, as shown.
    public var host: String
    /// `https://host:port` (lower-cased): what the decision is for, with the route.
    public var origin: String
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
        origin: String,
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
        self.origin = origin.lowercased()
        self.detectors = Array(Set(detectors)).sorted()
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.fromRequest = fromRequest
        self.hits = hits
    }

    /// Whether this decision settles a request on `route` to `origin` whose findings came from `detectors`.
    public func covers(route: String, origin: String, detectors: [String], now: Date) -> Bool {
        guard now < expiresAt, self.route == route, self.origin == origin.lowercased(), !detectors.isEmpty else {
            return false
        }
        switch verdict {
        case .approve: return Set(detectors).isSubset(of: self.detectors)
        case .deny: return !Set(detectors).isDisjoint(with: self.detectors)
        }
    }

    /// The same decision with its fields normalised as `init` does (a decoded one may not be).
    public var normalised: StandingDecision {
        StandingDecision(
            id: id, verdict: verdict, route: route, host: host, origin: origin, detectors: detectors,
            createdAt: createdAt, expiresAt: expiresAt, createdBy: createdBy, fromRequest: fromRequest, hits: hits
        )
    }

    public func expiresIn(now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.up)))
    }

    /// Longest a standing decision may last: a day. Longer is a routes.yaml change, not a click.
    public static let longest: TimeInterval = 86_400
}
