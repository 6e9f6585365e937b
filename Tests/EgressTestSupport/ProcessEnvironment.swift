import Foundation

/// One lock for the test process's environment. Foundation's `Process.run` copies the process
/// environment for the child while a concurrent `setenv` may reallocate it underneath: that read
/// of freed memory crashed whole test runs. Every test that changes the environment, and every
/// test that starts a `Process`, does so under this lock.
public enum ProcessEnvironment {
    private static let lock = NSLock()

    public static func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Sets `name` (once; a value already there stays) under the lock.
    public static func set(_ name: String, to value: String) {
        withLock { _ = setenv(name, value, 0) }
    }
}
