import NIOConcurrencyHelpers
import NIOCore

/// Reports a recurring condition (descriptor exhaustion, the connection cap) at most once per
/// interval, with how many occurrences the quiet time swallowed, so a flood cannot flood the log.
final class RateLimitedReport: Sendable {
    private let interval: TimeAmount
    private let state = NIOLockedValueBox<(last: NIODeadline?, suppressed: Int)>((nil, 0))

    init(interval: TimeAmount = .seconds(10)) {
        self.interval = interval
    }

    /// Whether to report now, and how many occurrences were not reported since the last report.
    func occurred(now: NIODeadline = .now()) -> (report: Bool, suppressed: Int) {
        state.withLockedValue { state in
            if let last = state.last, now - last < interval {
                state.suppressed += 1
                return (false, 0)
            }
            let suppressed = state.suppressed
            state = (now, 0)
            return (true, suppressed)
        }
    }
}
