import CSeccomp
import Glibc

/// Locks the calling process down for scanning: no new privileges, tight rlimits, and a seccomp
/// filter whose default action kills the process.
///
/// Call once, after everything that needs more than memory (detector compilation and JIT) is done and
/// while the process is single-threaded. After it returns, the process may only use raw `read`/`write`
/// on ``IPC/WireProtocol/workerSocketDescriptor``, allocate memory and exit: no `print` (stdio's first
/// use calls `newfstatat`), no Foundation, no files.
enum Sandbox {
    static func lockDown(_ policy: SandboxPolicy) throws(SandboxError) {
        // A peer that closed its end must give EPIPE, not a SIGPIPE death.
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&ignore.sa_mask)
        guard sigaction(SIGPIPE, &ignore, nil) == 0 else {
            throw SandboxError(step: "sigaction(SIGPIPE, SIG_IGN)", errorNumber: errno)
        }
        try setLimit(Int32(RLIMIT_CORE.rawValue), "RLIMIT_CORE", to: 0)
        try setLimit(Int32(RLIMIT_FSIZE.rawValue), "RLIMIT_FSIZE", to: 0)
        try setLimit(Int32(RLIMIT_NOFILE.rawValue), "RLIMIT_NOFILE", to: policy.openFileLimit)
        try setLimit(Int32(__RLIMIT_NPROC.rawValue), "RLIMIT_NPROC", to: 0)
        try setLimit(Int32(__RLIMIT_MEMLOCK.rawValue), "RLIMIT_MEMLOCK", to: 0)
        try setLimit(Int32(RLIMIT_AS.rawValue), "RLIMIT_AS", to: policy.addressSpaceLimit)
        guard egress_prctl_set_no_new_privs() == 0 else {
            throw SandboxError(step: "prctl(PR_SET_NO_NEW_PRIVS)", errorNumber: errno)
        }
        try installFilter()
    }

    /// Sets both the soft and the hard limit, so the worker cannot raise it again.
    private static func setLimit(_ resource: Int32, _ name: String, to value: UInt64) throws(SandboxError) {
        var limit = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
        guard setrlimit(__rlimit_resource_t(resource), &limit) == 0 else {
            throw SandboxError(step: "setrlimit(\(name))", errorNumber: errno)
        }
    }

    private static func installFilter() throws(SandboxError) {
        guard let filter = seccomp_init(egress_scmp_act_kill_process()) else {
            throw SandboxError(step: "seccomp_init", errorNumber: 0)
        }
        defer { seccomp_release(filter) }
        for rule in SyscallAllowlist.rules {
            let number = seccomp_syscall_resolve_name(rule.name)
            guard number >= 0 else {
                throw SandboxError(step: "seccomp_syscall_resolve_name(\(rule.name))", errorNumber: 0)
            }
            let result = rule.conditions.withUnsafeBufferPointer { conditions in
                seccomp_rule_add_array(
                    filter,
                    egress_scmp_act_allow(),
                    number,
                    UInt32(conditions.count),
                    conditions.baseAddress
                )
            }
            guard result == 0 else {
                throw SandboxError(step: "seccomp_rule_add_array(\(rule.name))", errorNumber: -result)
            }
        }
        let result = seccomp_load(filter)
        guard result == 0 else {
            throw SandboxError(step: "seccomp_load", errorNumber: -result)
        }
    }
}
