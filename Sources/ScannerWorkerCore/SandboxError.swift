/// A lock-down step that failed. The worker then exits with ``WorkerExitCode/startupFailed``: it never
/// serves unsandboxed.
public struct SandboxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being set up, e.g. `setrlimit(RLIMIT_AS)` or `seccomp_load`.
    public let step: String
    /// The `errno` (or negated libseccomp return value), 0 when there is none.
    public let errorNumber: Int32

    init(step: String, errorNumber: Int32) {
        self.step = step
        self.errorNumber = errorNumber
    }

    public var description: String {
        errorNumber == 0 ? "\(step) failed" : "\(step) failed (errno \(errorNumber))"
    }
}
