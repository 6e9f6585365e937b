import Foundation

/// One lock for the test process's environment: a child started with an inherited environment
/// reads `environ` while a concurrent `setenv` may reallocate it underneath. Every test that
/// changes the environment, and ``ChildProcess`` when it starts a child, does so under this lock.
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
