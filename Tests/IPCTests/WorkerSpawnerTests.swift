#if canImport(Glibc)
import EgressTestSupport
import Glibc
import Testing

@testable import IPC

/// The spawner with ordinary programs standing in for a worker (the real worker is tested in
/// ScannerWorkerTests).
@Suite struct WorkerSpawnerTests {
    private static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return result }
            result += chunk[0..<count]
        }
    }

    private static func descriptors(of pid: Int32) -> [Int32: String] {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [:] }
        defer { closedir(directory) }
        var result: [Int32: String] = [:]
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let fd = Int32(name) else { continue }
            var target = [CChar](repeating: 0, count: 256)
            let count = readlink("/proc/\(pid)/fd/\(name)", &target, target.count - 1)
            result[fd] =
                count > 0 ? String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        }
        return result
    }

    private static func statusField(_ field: String, of pid: Int32) -> String? {
        guard let status = contents(of: "/proc/\(pid)/status") else { return nil }
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).trimmingCharacters(in: " \t")
        }
        return nil
    }

    /// Reads until EOF, waiting at most `timeout` milliseconds for each chunk.
    private static func readToEnd(_ fd: Int32, timeout: Int32 = 5000) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pollfd, 1, timeout) == 1 else { return nil }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return result }
            result += chunk[0..<count]
        }
    }

    @Test func childGetsOnlyTheSocketAndDevNullAndAnEmptyEnvironment() throws {
        ProcessEnvironment.set("EGRESS_TEST_SPAWNER_SECRET", to: "ghp_fake_secret_that_must_not_leak")
        #expect(getenv("EGRESS_TEST_SPAWNER_SECRET") != nil)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR2)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previousMask)
        let previousHandler = signal(SIGUSR2, SIG_IGN)
        let worker: SpawnedWorker
        do {
            defer {
                signal(SIGUSR2, previousHandler)
                pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            }
            worker = try WorkerSpawner.spawn(executable: "/bin/sleep", arguments: ["30"])
        }
        defer { close(worker.socket) }

        // posix_spawn returns once the child has switched to the new image, which can be before the
        // kernel has laid out its arguments and environment: wait until /proc shows them.
        for _ in 0..<500
        where Self.contents(of: "/proc/\(worker.pid)/cmdline") != Array("/bin/sleep\u{0}30\u{0}".utf8) {
            usleep(10_000)
        }
        // The dynamic loader of the new image opens its libraries on the first free descriptor (4)
        // for a moment: a leaked descriptor stays, the loader's goes. Wait for the set to settle.
        var fds = Self.descriptors(of: worker.pid)
        for _ in 0..<500 where Set(fds.keys) != [0, 1, 2, 3] {
            usleep(10_000)
            fds = Self.descriptors(of: worker.pid)
        }
        #expect(Set(fds.keys) == [0, 1, 2, 3])
        #expect(fds[0] == "/dev/null")
        #expect(fds[1] == "/dev/null")
        #expect(fds[2] == "/dev/null")
        #expect(fds[3]?.hasPrefix("socket:") == true)
        #expect(Self.contents(of: "/proc/\(worker.pid)/environ") == Array("SWIFT_BACKTRACE=enable=no\0".utf8))
        #expect(Self.statusField("SigBlk", of: worker.pid) == "0000000000000000")
        // Signals 1–31 at their defaults (glibc keeps its two internal real-time signals, 32 and 33,
        // ignored in a spawned child by design).
        let ignored = Self.statusField("SigIgn", of: worker.pid).flatMap { UInt64($0, radix: 16) }
        #expect(ignored.map { $0 & 0x7fff_ffff } == 0)

        #expect(try WorkerSpawner.reap(worker.pid) == nil)
        try WorkerSpawner.kill(worker.pid)
        #expect(try WorkerSpawner.waitForExit(worker.pid) == .signaled(SIGKILL))
        #expect(throws: WorkerSpawnError.self) { try WorkerSpawner.reap(worker.pid) }
    }

    @Test func childWritesOnFdThreeAndTheParentSeesEOFWhenItExits() throws {
        let worker = try WorkerSpawner.spawn(executable: "/bin/sh", arguments: ["-c", "printf hello >&3; exit 7"])
        defer { close(worker.socket) }
        // EOF arrives only because the parent closed its copy of the child's end.
        #expect(Self.readToEnd(worker.socket) == Array("hello".utf8))
        #expect(try WorkerSpawner.waitForExit(worker.pid) == .exited(7))
    }

    @Test func theParentEndIsCloseOnExec() throws {
        let worker = try WorkerSpawner.spawn(executable: "/bin/true")
        defer { close(worker.socket) }
        #expect(fcntl(worker.socket, F_GETFD) & FD_CLOEXEC != 0)
        #expect(try WorkerSpawner.waitForExit(worker.pid) == .exited(0))
    }

    @Test func aMissingExecutableIsReported() {
        #expect(
            throws: WorkerSpawnError(
                operation: "posix_spawn",
                errorNumber: ENOENT,
                executable: "/nonexistent/egress-scanner"
            )
        ) {
            try WorkerSpawner.spawn(executable: "/nonexistent/egress-scanner")
        }
    }

    @Test func reapPollsWithoutBlocking() throws {
        let worker = try WorkerSpawner.spawn(
            executable: "/bin/sh",
            arguments: ["-c", "read line <&3; kill -SEGV $$"]
        )
        defer { close(worker.socket) }
        #expect(try WorkerSpawner.reap(worker.pid) == nil)
        _ = write(worker.socket, "go\n", 3)
        var termination: WorkerTermination?
        for _ in 0..<500 where termination == nil {
            termination = try WorkerSpawner.reap(worker.pid)
            if termination == nil { usleep(10_000) }
        }
        #expect(termination == .signaled(SIGSEGV))
        #expect(termination?.description == "killed by signal 11 (SIGSEGV)")
    }

    @Test func waitStatusDecoding() {
        #expect(WorkerTermination(waitStatus: 0x0700) == .exited(7))
        #expect(WorkerTermination(waitStatus: 0) == .exited(0))
        #expect(WorkerTermination(waitStatus: 9) == .signaled(9))
        #expect(WorkerTermination(waitStatus: 0x80 | 11) == .signaled(11))  // core dumped
        #expect(WorkerTermination(waitStatus: 0x137f) == nil)  // stopped by SIGSTOP
        #expect(WorkerTermination(waitStatus: 0xffff) == nil)  // continued
        #expect(WorkerTermination.exited(71).description == "exited with status 71")
        #expect(WorkerTermination.signaled(31).description == "killed by signal 31 (SIGSYS)")
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
#endif
