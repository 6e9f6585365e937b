import Foundation
import IPC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for tests that run real programs (curl, git, the
/// egress binary). Not Foundation's `Process`: on Linux its `run()` reads `/proc/self/fd` entries
/// past the end of their buffer, which crashed whole test runs now and then (a read of an unmapped
/// page in `findMaximumOpenFromProcSelfFD`).
///
/// Standard input, output and error go to files (or `/dev/null`); every other descriptor of the
/// test process is closed in the child. The exit status is collected by a thread of its own.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Starts `executable`. `environment` nil inherits the test process's environment.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        stdin: String = "/dev/null",
        stdout: String = "/dev/null",
        stderr: String = "/dev/null"
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_APPEND, 0)
        guard let addCloseFrom = PosixSpawnExtensions.addCloseFrom, let addChdir = PosixSpawnExtensions.addChdir else {
            throw ChildProcessError(executable: executable, errorNumber: ENOSYS)
        }
        _ = addCloseFrom(&actions, 3)
        if let currentDirectory { _ = addChdir(&actions, currentDirectory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and nothing blocked, whatever the test
        // process set up.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var spawned: pid_t = 0
        let result: Int32 = ProcessEnvironment.withLock {
            if let environment {
                let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
                defer { for pointer in envp { free(pointer) } }
                return posix_spawn(&spawned, executable, &actions, &attributes, argv, envp)
            }
            return posix_spawn(&spawned, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else { throw ChildProcessError(executable: executable, errorNumber: result) }
        pid = spawned
        let child = spawned
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            // Like Foundation: the exit code, or the number of the signal that ended the child.
            let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
            let waiters = self.state.withLock { state in
                state.status = code
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: code) }
        }
    }

    public var isRunning: Bool { state.withLock { $0.status == nil } }

    /// The exit status once the child has ended.
    public var exitStatus: Int32? { state.withLock { $0.status } }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let known: Int32? = state.withLock { state in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Blocks until the child has ended (for cleanup paths that cannot await).
    public func waitForExitBlocking() -> Int32 {
        while true {
            if let status = exitStatus { return status }
            usleep(10_000)
        }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let executable: String
    public let errorNumber: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(errorNumber)))" }
}
