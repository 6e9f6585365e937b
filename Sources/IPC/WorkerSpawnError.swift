/// Why a worker could not be spawned, killed or reaped: the failing call and its `errno`.
public struct WorkerSpawnError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The system call or library function that failed, e.g. `socketpair` or `posix_spawn`.
    public let operation: String
    /// The `errno` (or the error number `posix_spawn` returned).
    public let errorNumber: Int32
    /// The executable, for spawn failures.
    public let executable: String?

    init(operation: String, errorNumber: Int32, executable: String? = nil) {
        self.operation = operation
        self.errorNumber = errorNumber
        self.executable = executable
    }

    public var description: String {
        let target = executable.map { " \($0)" } ?? ""
        return "\(operation)\(target) failed: \(systemErrorMessage(errorNumber)) (errno \(errorNumber))"
    }
}
