/// The resource limits a worker locks itself into (the seccomp allowlist is fixed: see
/// ``SyscallAllowlist``).
public struct SandboxPolicy: Sendable, Hashable {
    /// `RLIMIT_AS`: the worker's whole virtual address space. 1 GiB holds the Swift runtime, every
    /// compiled and JIT-compiled detector, a maximum-size request frame, its decoded segments, their
    /// redacted copies and the reply frame, with room to spare. A scan that needs more fails the
    /// allocation and the worker dies (the frontend respawns it and fails the scan closed).
    public var addressSpaceLimit: UInt64
    /// `RLIMIT_NOFILE`: one past the highest descriptor the worker has (0–2 on `/dev/null`, 3 its
    /// socket), so it could not open another even if seccomp allowed it.
    public var openFileLimit: UInt64

    public init(addressSpaceLimit: UInt64 = 1 << 30, openFileLimit: UInt64 = 4) {
        self.addressSpaceLimit = addressSpaceLimit
        self.openFileLimit = openFileLimit
    }

    public static let standard = SandboxPolicy()
}
