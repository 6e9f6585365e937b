import Foundation

/// What the supervision queue knows, as a value: the held requests, the standing decisions and the
/// history. Each operation returns what happened; the queue (which owns the promises, timers and
/// observers) performs it. Tested without event loops.
public struct SupervisionBook: Sendable {
    /// What `hold` did with a request.
    public enum HoldOutcome: Sendable, Equatable {
        /// Waiting for the operator.
        case held
        /// A standing decision settled it at once.
        case decided(SupervisionQueue.Decision, by: StandingDecision)
        /// `limit` requests already wait.
        case full(limit: Int)
    }

    /// A settled held request, with the standing decision the operator made with it, if any.
    public struct Settlement: Sendable, Equatable {
        public var request: SupervisionQueue.HeldRequest
        public var decision: SupervisionQueue.Decision
        public var by: Decider
        public var rule: StandingDecision?
    }

    public enum SettleError: Error, Equatable, CustomStringConvertible {
        case unknown(String)
        case rule(StandingDecisions.AddError)

        public var description: String {
            switch self {
            case .unknown(let id): "no held request with id \(id) (unknown, or already decided)"
            case .rule(let error): error.description
            }
        }
    }

    private(set) var pending: [String: SupervisionQueue.HeldRequest] = [:]
    /// Ids in the order they were held.
    private var order: [String] = []
    private(set) var rules: StandingDecisions
    private(set) var history: DecisionHistory

    public init(rules: [StandingDecision] = [], historyCapacity: Int = 200) {
        self.rules = StandingDecisions(rules)
        self.history = DecisionHistory(capacity: historyCapacity)
    }

    /// Held requests, oldest first.
    public var held: [SupervisionQueue.HeldRequest] { order.compactMap { pending[$0] } }

    /// A request DLP wants the operator to judge: settled by a standing decision, refused when
    /// `limit` already wait, or held.
    public mutating func hold(_ request: SupervisionQueue.HeldRequest, limit: Int, now: Date) -> HoldOutcome {
        if let rule = rules.match(route: request.route, origin: request.origin, detectors: request.detectors, now: now) {
            let decision: SupervisionQueue.Decision = rule.verdict == .approve ? .approved : .denied
            record(decision.rawValue, request, by: .rule, rule: rule.id, now: now)
            return .decided(decision, by: rule)
        }
        guard pending.count < limit else { return .full(limit: limit) }
        pending[request.id] = request
        order.append(request.id)
        record("held", request, by: nil, rule: nil, now: now)
        return .held
    }

    /// Settles a held request. With `standingFor` the operator's approve or deny also becomes a
    /// standing decision for that long; if it cannot (too many, or a bad duration) nothing is settled.
    public mutating func settle(
        _ id: String,
        _ decision: SupervisionQueue.Decision,
        by: Decider,
        standingFor: TimeInterval? = nil,
        ruleID: String = SupervisionQueue.newID(),
        now: Date
    ) -> Result<Settlement, SettleError> {
        guard let request = pending[id] else { return .failure(.unknown(id)) }
        var rule: StandingDecision?
        if let standingFor, decision == .approved || decision == .denied {
            let made = StandingDecision(
                id: ruleID,
                verdict: decision == .approved ? .approve : .deny,
                route: request.route,
                host: request.host,
                origin: request.origin,
                detectors: request.detectors,
                createdAt: now,
                expiresAt: now.addingTimeInterval(standingFor),
                createdBy: by,
                fromRequest: id
            )
            do throws(StandingDecisions.AddError) {
                try rules.add(made, now: now)
            } catch {
                return .failure(.rule(error))
            }
            rule = made
        }
        pending[id] = nil
        order.removeAll { $0 == id }
        record(decision.rawValue, request, by: by, rule: rule?.id, now: now)
        return .success(Settlement(request: request, decision: decision, by: by, rule: rule))
    }

    public mutating func revoke(_ ruleID: String, now: Date) -> StandingDecision? {
        rules.revoke(ruleID, now: now)
    }

    public mutating func standingDecisions(now: Date) -> [StandingDecision] {
        rules.current(now: now)
    }

    private mutating func record(
        _ status: String,
        _ request: SupervisionQueue.HeldRequest,
        by: Decider?,
        rule: String?,
        now: Date
    ) {
        history.record(
            .init(
                status: status,
                at: now,
                id: request.id,
                by: by,
                rule: rule,
                host: request.host,
                method: request.method,
                path: request.path,
                detectors: request.detectors
            )
        )
    }
}
