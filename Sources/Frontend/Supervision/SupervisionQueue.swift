import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Requests held for an operator's decision (the `supervise` policy, README, "DLP" and "Operating the sidecar").
///
/// The request path holds a request and waits on the returned future; the control API lists held
/// requests and settles them, optionally as a standing decision that settles later matching
/// requests at once. A request nobody decides on within its timeout is denied as expired.
/// The operator sees context, detector labels and masked previews — never a whole secret.
/// What is decided lives in a ``SupervisionBook``; this class adds the lock, the promises, the
/// timers and the observers.
public final class SupervisionQueue: Sendable {
    public enum Decision: String, Sendable, Equatable {
        case approved
        case denied
        case expired
        /// The agent went away before anyone decided.
        case abandoned
    }

    /// What the operator is shown about a held request.
    public struct HeldRequest: Sendable, Equatable {
        public var id: String
        /// The route's host pattern as routes.yaml writes it (what a standing decision is for).
        public var route: String
        public var host: String
        /// `https://host:port`, lower-cased: what a standing decision is for, with the route.
        public var origin: String
        public var method: String
        public var path: String
        /// Detector ids, in the order found, without repeats.
        public var detectors: [String]
        public var labels: [String]
        /// A masked preview of each finding, e.g. `ghp_…T4V4`.
        public var previews: [String]
        public var heldAt: Date
        public var expiresAt: Date

        public init(
            id: String,
            route: String,
            host: String,
            origin: String,
            method: String,
            path: String,
            detectors: [String],
            labels: [String],
            previews: [String],
            heldAt: Date,
            expiresAt: Date
        ) {
            self.id = id
            self.route = route
            self.host = host
            self.origin = origin.lowercased()
            self.method = method
            self.path = path
            self.detectors = detectors
            self.labels = labels
            self.previews = previews
            self.heldAt = heldAt
            self.expiresAt = expiresAt
        }

        public func expiresIn(now: Date = Date()) -> Int {
            max(0, Int(expiresAt.timeIntervalSince(now).rounded(.up)))
        }
    }

    /// What `hold` did.
    enum HoldResult {
        /// Waiting; the future completes on the event loop given to `hold`.
        case held(HeldRequest, EventLoopFuture<SupervisionBook.Settlement>)
        /// Settled at once by a standing decision.
        case decided(SupervisionBook.Settlement)
        /// Too many requests wait already.
        case full(limit: Int)
    }

    private struct Waiter {
        var promise: EventLoopPromise<SupervisionBook.Settlement>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var book: SupervisionBook
        var waiters: [String: Waiter] = [:]
    }

    private let state: NIOLockedValueBox<State>
    private let observers: [any SupervisionObserver]

    /// `standingDecisions`: loaded from `--decisions-file`; `historyCapacity`: `GET /history`'s length.
    public init(
        standingDecisions: [StandingDecision] = [],
        historyCapacity: Int = 200,
        observers: [any SupervisionObserver] = []
    ) {
        self.state = NIOLockedValueBox(
            State(book: SupervisionBook(rules: standingDecisions, historyCapacity: historyCapacity))
        )
        self.observers = observers
    }

    /// Requests still held when the queue goes (the proxy stopped) are refused as abandoned, so no
    /// waiter is left hanging.
    deinit {
        let (waiters, held) = state.withLockedValue { state in (state.waiters, state.book.pending) }
        for (id, waiter) in waiters {
            waiter.timer?.cancel()
            guard let request = held[id] else { continue }
            waiter.promise.succeed(.init(request: request, decision: .abandoned, by: .agent, rule: nil))
        }
    }

    /// Holds a request until decided, expired or cancelled — unless a standing decision settles it
    /// at once, or `limit` requests already wait.
    func hold(
        route: String,
        host: String,
        origin: String,
        method: String,
        path: String,
        detectors: [String],
        labels: [String],
        previews: [String],
        timeout: TimeAmount,
        limit: Int,
        on eventLoop: any EventLoop,
        now: Date = Date(),
        id: String = SupervisionQueue.newID()
    ) -> HoldResult {
        let request = HeldRequest(
            id: id,
            route: route,
            host: host,
            origin: origin,
            method: method,
            path: path,
            detectors: detectors,
            labels: labels,
            previews: previews,
            heldAt: now,
            expiresAt: now.addingTimeInterval(Double(timeout.nanoseconds) / 1e9)
        )
        return state.withLockedValue { state in
            switch state.book.hold(request, limit: limit, now: now) {
            case .full(let limit):
                return .full(limit: limit)
            case .decided(let decision, let rule):
                let settlement = SupervisionBook.Settlement(request: request, decision: decision, by: .rule, rule: rule)
                tell(.settled(settlement))
                return .decided(settlement)
            case .held:
                let promise = eventLoop.makePromise(of: SupervisionBook.Settlement.self)
                let id = request.id
                let timer = eventLoop.scheduleTask(in: timeout) { [weak self] in
                    _ = try? self?.settle(id, .expired, by: .timeout)
                }
                state.waiters[id] = Waiter(promise: promise, timer: timer)
                tell(.held(request))
                return .held(request, promise.futureResult)
            }
        }
    }

    /// Held requests, oldest first.
    public func pending() -> [HeldRequest] {
        state.withLockedValue { $0.book.held }
    }

    /// The operator's approve or deny; with `standingFor`, also a standing decision for that long.
    @discardableResult
    public func decide(
        _ id: String,
        approve: Bool,
        by: Decider,
        standingFor: TimeInterval? = nil,
        now: Date = Date()
    ) throws(SupervisionBook.SettleError) -> SupervisionBook.Settlement {
        try settle(id, approve ? .approved : .denied, by: by, standingFor: standingFor, now: now)
    }

    /// The agent's connection closed: drop the request from the queue.
    func abandon(_ id: String) {
        _ = try? settle(id, .abandoned, by: .agent)
    }

    /// egress is stopping: every held request is refused now rather than waiting out the drain.
    public func refuseAllHeld() {
        for request in pending() { _ = try? settle(request.id, .denied, by: .shutdown) }
    }

    public func standingDecisions(now: Date = Date()) -> [StandingDecision] {
        state.withLockedValue { $0.book.standingDecisions(now: now) }
    }

    /// Ends a standing decision before its time; `nil` when there is none with `id`.
    public func revoke(_ id: String, now: Date = Date()) -> StandingDecision? {
        state.withLockedValue { state in
            guard let revoked = state.book.revoke(id, now: now) else { return nil }
            tell(.standingDecisions(state.book.standingDecisions(now: now)))
            return revoked
        }
    }

    /// The recent decisions, newest first.
    public func history() -> [DecisionHistory.Entry] {
        state.withLockedValue { $0.book.history.newestFirst }
    }

    private func settle(
        _ id: String,
        _ decision: Decision,
        by: Decider,
        standingFor: TimeInterval? = nil,
        now: Date = Date()
    ) throws(SupervisionBook.SettleError) -> SupervisionBook.Settlement {
        let result: Result<(SupervisionBook.Settlement, Waiter?), SupervisionBook.SettleError> =
            state.withLockedValue { state in
                switch state.book.settle(id, decision, by: by, standingFor: standingFor, now: now) {
                case .failure(let error):
                    return .failure(error)
                case .success(let settlement):
                    tell(.settled(settlement))
                    if settlement.rule != nil { tell(.standingDecisions(state.book.standingDecisions(now: now))) }
                    return .success((settlement, state.waiters.removeValue(forKey: id)))
                }
            }
        let (settlement, waiter) = try result.get()
        waiter?.timer?.cancel()
        waiter?.promise.succeed(settlement)
        return settlement
    }

    private func tell(_ change: SupervisionChange) {
        for observer in observers { observer.supervisionChanged(change) }
    }

    /// Short, unguessable ids: the control API is authenticated, but ids should not be enumerable.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return String((0..<10).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
