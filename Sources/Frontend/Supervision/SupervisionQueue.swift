import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Requests held for an operator's decision (the `supervise` policy, README, "DLP" and "Operating the sidecar").
///
/// The request path holds a request and waits on the returned future; the control API lists held
/// requests and settles them. A request nobody decides on within its timeout is denied as expired.
/// The operator sees context, detector labels and masked previews — never a whole secret.
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
        public var host: String
        public var method: String
        public var path: String
        /// Detector ids with their labels, in the order found.
        public var detectors: [String]
        public var labels: [String]
        /// A masked preview of each finding, e.g. `ghp_…T4V4`.
        public var previews: [String]
        public var heldAt: Date
        public var expiresAt: Date

        public func expiresIn(now: Date = Date()) -> Int {
            max(0, Int(expiresAt.timeIntervalSince(now).rounded(.up)))
        }
    }

    public enum SettleError: Error, Equatable, CustomStringConvertible {
        case unknown(String)

        public var description: String {
            switch self {
            case .unknown(let id): "no held request with id \(id) (unknown, or already decided)"
            }
        }
    }

    private struct Entry {
        var request: HeldRequest
        var promise: EventLoopPromise<Decision>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Ids in the order they were held.
        var order: [String] = []
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Holds a request until decided, expired or cancelled. The future completes on `eventLoop`.
    func hold(
        host: String,
        method: String,
        path: String,
        detectors: [String],
        labels: [String],
        previews: [String],
        timeout: TimeAmount,
        on eventLoop: any EventLoop
    ) -> (request: HeldRequest, decision: EventLoopFuture<Decision>) {
        let now = Date()
        let request = HeldRequest(
            id: Self.newID(),
            host: host,
            method: method,
            path: path,
            detectors: detectors,
            labels: labels,
            previews: previews,
            heldAt: now,
            expiresAt: now.addingTimeInterval(Double(timeout.nanoseconds) / 1e9)
        )
        let promise = eventLoop.makePromise(of: Decision.self)
        let id = request.id
        let timer = eventLoop.scheduleTask(in: timeout) { [weak self] in
            _ = self?.settle(id, with: .expired)
        }
        state.withLockedValue { state in
            state.entries[id] = Entry(request: request, promise: promise, timer: timer)
            state.order.append(id)
        }
        return (request, promise.futureResult)
    }

    /// Held requests, oldest first.
    public func pending() -> [HeldRequest] {
        state.withLockedValue { state in state.order.compactMap { state.entries[$0]?.request } }
    }

    public func approve(_ id: String) throws(SettleError) { try decide(id, .approved) }
    public func deny(_ id: String) throws(SettleError) { try decide(id, .denied) }

    /// The agent's connection closed: drop the request from the queue.
    func abandon(_ id: String) {
        settle(id, with: .abandoned)
    }

    private func decide(_ id: String, _ decision: Decision) throws(SettleError) {
        guard settle(id, with: decision) else { throw .unknown(id) }
    }

    @discardableResult
    private func settle(_ id: String, with decision: Decision) -> Bool {
        let entry: Entry? = state.withLockedValue { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return nil }
            state.order.removeAll { $0 == id }
            return entry
        }
        guard let entry else { return false }
        entry.timer?.cancel()
        entry.promise.succeed(decision)
        return true
    }

    /// Short, unguessable ids: the control API is authenticated, but ids should not be enumerable.
    private static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return String((0..<10).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
