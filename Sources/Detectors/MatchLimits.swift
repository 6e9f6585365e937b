/// Bounds on every PCRE2 match. Hitting any of them fails the scan (``DetectionError/limitExceeded(detectorID:)``),
/// it never counts as "no match".
///
/// `matchLimit` applies to JIT and interpreter alike (per start position); `depthLimit` and
/// `heapLimitKiB` bound the interpreter, which is only used if JIT compilation is unavailable;
/// `jitStackKiB` is the largest JIT stack a match may grow to.
public struct MatchLimits: Sendable, Equatable {
    public var matchLimit: UInt32
    public var depthLimit: UInt32
    public var heapLimitKiB: UInt32
    public var jitStackKiB: UInt32

    public init(matchLimit: UInt32, depthLimit: UInt32, heapLimitKiB: UInt32, jitStackKiB: UInt32 = 1024) {
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
        self.heapLimitKiB = heapLimitKiB
        self.jitStackKiB = jitStackKiB
    }

    /// Generous for the catalog's bounded patterns (which need a few thousand steps per start
    /// position at most), tight enough that a runaway pattern fails in milliseconds.
    public static let standard = MatchLimits(
        matchLimit: 200_000,
        depthLimit: 10_000,
        heapLimitKiB: 16 * 1024,
        jitStackKiB: 1024
    )
}
