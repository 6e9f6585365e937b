import Foundation

/// The last decisions about held requests (README, "History").
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
    /// Operators' decisions (CLI, page, API) in a ring of their own, so that a flood of held and
    /// abandoned requests cannot push them out.
    private var decisions: Ring
    private var others: Ring
    /// Records in the order they came, to merge the two rings.
    private var recorded = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        decisions = Ring(capacity: self.capacity)
        others = Ring(capacity: self.capacity)
    }

    public mutating func record(_ entry: Entry) {
        recorded += 1
        if let by = entry.by, Decider.operatorClients.contains(by) {
            decisions.append((recorded, entry))
        } else {
            others.append((recorded, entry))
        }
    }

    /// Newest first; at most `capacity` of each kind.
    public var newestFirst: [Entry] {
        var merged: [Entry] = []
        var a = decisions.newestFirst[...]
        var b = others.newestFirst[...]
        while let x = a.first, let y = b.first {
            if x.order > y.order {
                merged.append(x.entry)
                a = a.dropFirst()
            } else {
                merged.append(y.entry)
                b = b.dropFirst()
            }
        }
        return merged + a.map(\.entry) + b.map(\.entry)
    }

    private struct Ring: Sendable, Equatable {
        struct Item: Sendable, Equatable {
            var order: Int
            var entry: Entry
        }

        let capacity: Int
        var entries: [Item] = []
        var next = 0

        mutating func append(_ item: (Int, Entry)) {
            let entry = Item(order: item.0, entry: item.1)
            if entries.count < capacity {
                entries.append(entry)
            } else {
                entries[next] = entry
                next = (next + 1) % capacity
            }
        }

        var newestFirst: [Item] { Array((entries[next...] + entries[..<next]).reversed()) }
    }
}
