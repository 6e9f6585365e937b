/// How a reaped worker ended.
public enum WorkerTermination: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` with this status (see `WorkerExitCode` in ScannerWorkerCore).
    case exited(Int32)
    /// A signal killed it: `SIGKILL` from the supervisor, `SIGSYS` from the seccomp filter,
    /// `SIGSEGV` from a crash, ...
    case signaled(Int32)

    /// Decodes a `waitpid` status word (the `WIFEXITED`/`WEXITSTATUS`/`WTERMSIG` macros, which Swift
    /// cannot import). Returns `nil` for a stopped or continued child.
    init?(waitStatus status: Int32) {
        let termSignal = status & 0x7f
        if termSignal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else if termSignal != 0x7f && status & 0xffff != 0xffff {
            self = .signaled(termSignal)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .exited(let status):
            return "exited with status \(status)"
        case .signaled(let signal):
            let name = Self.signalNames[signal].map { " (\($0))" } ?? ""
            return "killed by signal \(signal)\(name)"
        }
    }

    /// Linux (x86-64 and arm64) numbers of the signals a worker is expected to die of.
    private static let signalNames: [Int32: String] = [
        4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE",
        15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
    ]
}
