import CSeccomp
import Glibc
import IPC

/// The only system calls a locked-down worker may make. Anything else kills the whole process with
/// `SIGSYS` (`SCMP_ACT_KILL_PROCESS`): no open/openat, socket, connect, execve, fork/clone, ptrace,
/// kill/tgkill, ... After the filter is loaded the worker only does raw `read`/`write` on its socket,
/// allocates memory and exits; everything else (detector compilation, JIT) happened before.
///
/// Traced in steady state (strace over scans, redaction, large bodies, EOF): `read(3)`, `write(3)`,
/// `brk`, `mmap`, `munmap`, `exit_group`. The rest are paths glibc's malloc or the runtime can take
/// under other allocation patterns or on the way to dying, each harmless to allow.
enum SyscallAllowlist {
    struct Rule {
        let name: String
        /// All must hold (several rules for one system call are alternatives).
        let conditions: [scmp_arg_cmp]
        /// Why the worker needs it (documentation only).
        let reason: String

        init(_ name: String, where conditions: [scmp_arg_cmp] = [], _ reason: String) {
            self.name = name
            self.conditions = conditions
            self.reason = reason
        }
    }

    static let rules: [Rule] = socketRules + memoryRules + futexRules + runtimeRules + exitRules

    private static let socketRules = [
        Rule("read", where: [equal(0, socket)], "requests from the frontend (traced)"),
        Rule("write", where: [equal(0, socket)], "WorkerReady and replies (traced)"),
    ]

    /// malloc and PCRE2's JIT stack. No new executable memory: every detector was JIT-compiled before
    /// lock-down.
    private static let memoryRules = [
        Rule("brk", "malloc's main arena (traced)"),
        Rule("mmap", where: [clear(2, mask: protExec)], "large allocations (traced); never PROT_EXEC"),
        Rule("munmap", "freeing large allocations (traced)"),
        Rule("mremap", "realloc of a large allocation"),
        Rule("madvise", "malloc trimming freed memory"),
        Rule("mprotect", where: [clear(2, mask: protExec)], "malloc growing a non-main heap; never PROT_EXEC"),
    ]

    /// Only process-private wait/wake, what glibc's and the Swift runtime's locks use when contended
    /// (never, in a single-threaded worker); requeue, PI and cross-process operations stay forbidden.
    private static let futexRules = futexOperations.map { operation in
        Rule("futex", where: [equal(1, operation)], "lock waits and wakes")
    }

    private static let runtimeRules = [
        Rule("clock_gettime", "time, if the vDSO falls back to the system call"),
        Rule("clock_nanosleep", "sleeping (not used; harmless)"),
        Rule("nanosleep", "sleeping (not used; harmless)"),
        Rule("restart_syscall", "resuming an interrupted sleep"),
        Rule("sched_yield", "spin locks backing off"),
        Rule("rt_sigreturn", "returning from a signal handler"),
        Rule("rt_sigprocmask", "glibc masking signals (abort, critical sections)"),
        Rule("sigaltstack", "the Swift runtime's alternate signal stack"),
        Rule("getpid", "glibc diagnostics (abort)"),
        Rule("gettid", "glibc diagnostics (abort)"),
    ]

    private static let exitRules = [
        Rule("exit", "a thread exiting"),
        Rule("exit_group", "the worker exiting: EOF, protocol violation (traced)"),
    ]

    private static let socket = UInt64(WireProtocol.workerSocketDescriptor)
    private static let protExec = UInt64(PROT_EXEC)

    /// `FUTEX_WAIT`, `FUTEX_WAKE`, `FUTEX_WAIT_BITSET` and `FUTEX_WAKE_BITSET`, each with
    /// `FUTEX_PRIVATE_FLAG`, the waits also with `FUTEX_CLOCK_REALTIME`.
    private static let futexOperations: [UInt64] = {
        let privateFlag: UInt64 = 128
        let clockRealtime: UInt64 = 256
        let (wait, wake, waitBitset, wakeBitset): (UInt64, UInt64, UInt64, UInt64) = (0, 1, 9, 10)
        return [
            wait | privateFlag, wake | privateFlag, waitBitset | privateFlag, wakeBitset | privateFlag,
            wait | privateFlag | clockRealtime, waitBitset | privateFlag | clockRealtime,
        ]
    }()

    /// `argument == value`.
    private static func equal(_ argument: UInt32, _ value: UInt64) -> scmp_arg_cmp {
        scmp_arg_cmp(arg: argument, op: SCMP_CMP_EQ, datum_a: value, datum_b: 0)
    }

    /// `argument & mask == 0`.
    private static func clear(_ argument: UInt32, mask: UInt64) -> scmp_arg_cmp {
        scmp_arg_cmp(arg: argument, op: SCMP_CMP_MASKED_EQ, datum_a: mask, datum_b: 0)
    }
}
