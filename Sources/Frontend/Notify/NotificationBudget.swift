import Foundation

/// How many messages one `--notify` URL gets: a bucket of `burst` that refills one message every
/// `interval`, so an agent that makes requests held (and hangs up) in a loop cannot flood the
/// operator's channel. Messages over budget are counted and summarised in the next one sent.
/// Pure: the sender asks it for each message.
public struct NotificationBudget: Sendable, Equatable {
    public let burst: Int
    public let interval: TimeInterval
    private var tokens: Double
    private var updated: Date
    /// Messages left out since the last one sent.
    public private(set) var suppressed = 0

    public init(burst: Int = 20, interval: TimeInterval = 3, now: Date = Date()) {
        self.burst = max(1, burst)
        self.interval = interval
        self.tokens = Double(max(1, burst))
        self.updated = now
    }

    /// Whether a message may go now. When it may, `suppressed` says how many were left out before
    /// it (to say so in it); the count then starts again.
    public mutating func take(now: Date) -> (send: Bool, suppressedBefore: Int) {
        tokens = min(Double(burst), tokens + max(0, now.timeIntervalSince(updated)) / interval)
        updated = now
        guard tokens >= 1 else {
            suppressed += 1
            return (false, 0)
        }
        tokens -= 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}
