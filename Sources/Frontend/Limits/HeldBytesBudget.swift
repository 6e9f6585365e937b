import NIOConcurrencyHelpers

/// The global budget of bytes held for DLP and supervise (`--max-held-bytes`). Each exchange holds
/// a ``HeldBytesReservation`` that grows with what it keeps; the bytes return to the budget when
/// the reservation is released — at the latest when the exchange itself goes away, whichever path
/// ended it.
final class HeldBytesBudget: Sendable {
    let limit: Int
    private let held = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// What a request or response gets when holding it would go over the budget (503).
    static let busyReason = "egress: busy"

    var heldBytes: Int { held.withLockedValue { $0 } }

    /// Takes `count` bytes; `false` (and nothing taken) when that would go over the limit.
    func reserve(_ count: Int) -> Bool {
        held.withLockedValue { held in
            guard count <= limit - held else { return false }
            held += count
            return true
        }
    }

    /// Gives back bytes taken with ``reserve(_:)``.
    func giveBack(_ count: Int) {
        held.withLockedValue { $0 -= count }
    }
}

/// One exchange's share of the ``HeldBytesBudget``.
final class HeldBytesReservation: Sendable {
    private let budget: HeldBytesBudget
    private let count = NIOLockedValueBox(0)

    init(budget: HeldBytesBudget) {
        self.budget = budget
    }

    /// Takes `more` bytes from the budget; `false` (and nothing taken) when it would go over.
    func grow(by more: Int) -> Bool {
        guard more > 0 else { return true }
        guard budget.reserve(more) else { return false }
        count.withLockedValue { $0 += more }
        return true
    }

    /// Gives `fewer` bytes back (a held copy that was dropped).
    func shrink(by fewer: Int) {
        let returned = count.withLockedValue { count in
            let returned = min(max(fewer, 0), count)
            count -= returned
            return returned
        }
        budget.giveBack(returned)
    }

    /// Gives everything back.
    func release() {
        let returned = count.withLockedValue { count in
            defer { count = 0 }
            return count
        }
        budget.giveBack(returned)
    }

    deinit { release() }
}
