import Foundation

/// The last decisions about held requests (README, "History"), newest last, at most `capacity`.
public struct DecisionHistory: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// `held`, `approved`, `denied`, `expired` or `abandoned`.
        public var status: String
        public var at: Date
        /// The held request's id (a request a standing decision settled gets one too).
        public var id: String
        /// Who decided; `nil` for `held`.
        public var by: Decider?
        /// The standing decision applied, or made by this decision.
        public var rule: String?
        public var host: String
        public var method: String
        public var path: String
        public var detectors: [String]
    }

    public let capacity: Int
    private var ring: [Entry] = []
    private var next = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public mutating func record(_ entry: Entry) {
        if ring.count < capacity {
            ring.append(entry)
        } else {
            ring[next] = entry
            next = (next + 1) % capacity
        }
    }

    /// Newest first.
    public var newestFirst: [Entry] {
        Array((ring[next...] + ring[..<next]).reversed())
    }
}
