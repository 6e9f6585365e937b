import Foundation

/// The standing decisions in force: a bounded set, pruned of expired ones as time passes.
/// Pure value: the supervision queue keeps one under its lock and persists snapshots.
public struct StandingDecisions: Sendable, Equatable {
    public enum AddError: Error, Equatable, CustomStringConvertible {
        case full(Int)
        case duration(TimeInterval)

        public var description: String {
            switch self {
            case .full(let limit):
                "too many standing decisions (\(limit)); revoke some (egress supervise rules)"
            case .duration(let seconds):
                "a standing decision lasts from 1 second to \(Int(StandingDecision.longest)) seconds, not \(seconds)"
            }
        }
    }

    public static let capacity = 256

    public private(set) var all: [StandingDecision] = []

    public init(_ decisions: [StandingDecision] = []) {
        all = Array(decisions.prefix(Self.capacity).map(\.normalised))
    }

    /// The decision that settles a request, if any. A deny wins over an approve: when an operator
    /// said both, the request is refused.
    public mutating func match(route: String, origin: String, detectors: [String], now: Date) -> StandingDecision? {
        prune(now: now)
        let covering = all.indices.filter { all[$0].covers(route: route, origin: origin, detectors: detectors, now: now) }
        guard let index = covering.first(where: { all[$0].verdict == .deny }) ?? covering.first else { return nil }
        all[index].hits += 1
        return all[index]
    }

    /// Adds `decision`. One with the same verdict, route, host and detectors as an existing one
    /// replaces it (a renewal), so repeated clicks do not pile up.
    public mutating func add(_ decision: StandingDecision, now: Date) throws(AddError) {
        let duration = decision.expiresAt.timeIntervalSince(now)
        guard duration >= 1, duration <= StandingDecision.longest else { throw .duration(duration) }
        prune(now: now)
        all.removeAll {
            $0.verdict == decision.verdict && $0.route == decision.route && $0.origin == decision.origin
                && $0.detectors == decision.detectors
        }
        guard all.count < Self.capacity else { throw .full(Self.capacity) }
        all.append(decision)
    }

    /// Removes the decision with `id`; false when there is none (unknown, or already expired).
    public mutating func revoke(_ id: String, now: Date) -> StandingDecision? {
        prune(now: now)
        guard let index = all.firstIndex(where: { $0.id == id }) else { return nil }
        return all.remove(at: index)
    }

    /// The decisions still in force, oldest first.
    public mutating func current(now: Date) -> [StandingDecision] {
        prune(now: now)
        return all
    }

    private mutating func prune(now: Date) {
        all.removeAll { $0.expiresAt <= now }
    }
}
