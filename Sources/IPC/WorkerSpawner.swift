#if canImport(Glibc)
import Glibc

/// The parent side of launching a scanner worker.
///
/// The child gets exactly four descriptors: its end of a socketpair on fd 3
/// (``WireProtocol/workerSocketDescriptor``) and `/dev/null` on stdin, stdout and stderr, so a crashing
/// worker's runtime output can never reach the proxy's JSON-lines stderr. Every other descriptor is
/// closed in the child by `posix_spawn_file_actions_addclosefrom_np(4)` where glibc has it (2.34+).
/// Beyond that, every descriptor of the parent is expected to be opened close-on-exec (NIO, Foundation
/// and this type all do), so nothing leaks on an older glibc either.
///
/// The child starts with an empty signal mask and every signal at its default disposition
/// (`POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF`), and with an environment holding only
/// `SWIFT_BACKTRACE=enable=no`: no token value in the parent's environment ever reaches a worker, and
/// the Swift runtime installs no crash handler (which would try to exec a backtracer).
///
/// All functions are synchronous system calls; ``waitForExit(_:)`` blocks the calling thread.
public enum WorkerSpawner {
    /// The whole environment of a worker.
    public static let workerEnvironment = ["SWIFT_BACKTRACE=enable=no"]

    /// Spawns `executable` (an absolute path) with `arguments` (without `argv[0]`, which is
    /// `executable`) connected by a new socketpair.
    ///
    /// The child's end of the socketpair is closed in the parent before this returns. A missing or
    /// non-executable file is reported here (glibc's `posix_spawn` reports exec failures).
    public static func spawn(executable: String, arguments: [String] = []) throws(WorkerSpawnError) -> SpawnedWorker {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw WorkerSpawnError(operation: "socketpair", errorNumber: errno)
        }
        let parentEnd = fds[0]
        var childEnd = fds[1]
        defer { close(childEnd) }

        // dup2(fd, fd) would be a no-op that leaves close-on-exec set: make sure the child's end is not
        // already on the target descriptor.
        if childEnd == WireProtocol.workerSocketDescriptor {
            let moved = fcntl(childEnd, F_DUPFD_CLOEXEC, WireProtocol.workerSocketDescriptor + 1)
            guard moved >= 0 else {
                let error = errno
                close(parentEnd)
                throw WorkerSpawnError(operation: "fcntl(F_DUPFD_CLOEXEC)", errorNumber: error)
            }
            close(childEnd)
            childEnd = moved
        }

        do throws(WorkerSpawnError) {
            let pid = try spawnProcess(executable: executable, arguments: arguments, socket: childEnd)
            return SpawnedWorker(pid: pid, socket: parentEnd)
        } catch {
            close(parentEnd)
            throw error
        }
    }

    /// Sends `SIGKILL` to a worker that has not been reaped yet. A worker that already exited (but is
    /// not reaped) is not an error.
    public static func kill(_ pid: Int32) throws(WorkerSpawnError) {
        precondition(pid > 0, "refusing to signal a process group")
        guard Glibc.kill(pid, SIGKILL) == 0 || errno == ESRCH else {
            throw WorkerSpawnError(operation: "kill", errorNumber: errno)
        }
    }

    /// Reaps the worker if it has ended, without blocking; `nil` while it is still running.
    public static func reap(_ pid: Int32) throws(WorkerSpawnError) -> WorkerTermination? {
        try wait(pid, options: WNOHANG)
    }

    /// Blocks until the worker ends and reaps it.
    public static func waitForExit(_ pid: Int32) throws(WorkerSpawnError) -> WorkerTermination {
        while true {
            if let termination = try wait(pid, options: 0) {
                return termination
            }
        }
    }

    private static func wait(_ pid: Int32, options: Int32) throws(WorkerSpawnError) -> WorkerTermination? {
        precondition(pid > 0, "refusing to wait for a process group")
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, options)
            if result == pid {
                // Stopped/continued children are not reported without WUNTRACED/WCONTINUED; be safe.
                return WorkerTermination(waitStatus: status)
            }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            throw WorkerSpawnError(operation: "waitpid", errorNumber: errno)
        }
    }

    private static func spawnProcess(
        executable: String,
        arguments: [String],
        socket: Int32
    ) throws(WorkerSpawnError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        try check("posix_spawn_file_actions_init", posix_spawn_file_actions_init(&actions))
        defer { posix_spawn_file_actions_destroy(&actions) }
        try check("posix_spawnattr_init", posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }

        try check(
            "posix_spawn_file_actions_adddup2",
            posix_spawn_file_actions_adddup2(&actions, socket, WireProtocol.workerSocketDescriptor)
        )
        try check(
            "posix_spawn_file_actions_addopen",
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        )
        try check(
            "posix_spawn_file_actions_addopen",
            posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        )
        try check(
            "posix_spawn_file_actions_addopen",
            posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        )
        if let addCloseFrom = PosixSpawnExtensions.addCloseFrom {
            try check(
                "posix_spawn_file_actions_addclosefrom_np",
                addCloseFrom(&actions, WireProtocol.workerSocketDescriptor + 1)
            )
        }

        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        try check("posix_spawnattr_setsigmask", posix_spawnattr_setsigmask(&attributes, &emptySet))
        try check("posix_spawnattr_setsigdefault", posix_spawnattr_setsigdefault(&attributes, &allSignals))
        try check(
            "posix_spawnattr_setflags",
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        )

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = workerEnvironment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw WorkerSpawnError(operation: "posix_spawn", errorNumber: result, executable: executable)
        }
        return pid
    }

    private static func check(_ operation: String, _ result: Int32) throws(WorkerSpawnError) {
        guard result == 0 else { throw WorkerSpawnError(operation: operation, errorNumber: result) }
    }
}

func systemErrorMessage(_ errorNumber: Int32) -> String {
    String(cString: strerror(errorNumber))
}
#else
func systemErrorMessage(_ errorNumber: Int32) -> String {
    "error \(errorNumber)"
}
#endif
