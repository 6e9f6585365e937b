import EgressTestSupport
import Detectors
import Foundation
import Glibc
import IPC
import ScannerWorkerCore
import Testing

/// The shipped worker, spawned for real: it says ready, and is locked down when it does.
@Suite struct WorkerSandboxTests {
    @Test func saysReadyWithoutFaultInjection() throws {
        let (worker, ready) = try WorkerProcess.ready()
        #expect(ready.protocolVersion == WireProtocol.version)
        #expect(ready.faultInjection == false)
        #expect(ready.pid == worker.pid)
        #expect(ready.detectorCount == UInt32(DetectorCatalog.all.count))
        worker.closeSocket()
        #expect(worker.waitForExit() == .exited(WorkerExitCode.closed.rawValue))
    }

    @Test func isSeccompFilteredWithNoNewPrivileges() throws {
        let (worker, _) = try WorkerProcess.ready()
        #expect(worker.status("Seccomp") == "2")
        #expect(worker.status("NoNewPrivs") == "1")
        #expect(worker.status("Threads") == "1")
        worker.finish()
    }

    @Test func hasOnlyStdioAndItsSocket() throws {
        let (worker, _) = try WorkerProcess.ready()
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker.pid)/fd")
        #expect(Set(fds) == ["0", "1", "2", "3"])
        for fd in ["0", "1", "2"] {
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker.pid)/fd/\(fd)") == "/dev/null"
            )
        }
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker.pid)/fd/3").hasPrefix("socket:")
        )
        worker.finish()
    }

    @Test func getsNoEnvironmentFromTheFrontend() throws {
        ProcessEnvironment.set("EGRESS_TEST_WORKER_SECRET", to: "ghp_fake_token_value_that_must_never_reach_a_worker")
        #expect(getenv("EGRESS_TEST_WORKER_SECRET") != nil)
        let (worker, _) = try WorkerProcess.ready()
        let environ = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(worker.pid)/environ"))
        #expect(environ == Data("SWIFT_BACKTRACE=enable=no\0".utf8))
        worker.finish()
    }

    @Test func hasTightResourceLimits() throws {
        let (worker, _) = try WorkerProcess.ready()
        let limits = try String(contentsOfFile: "/proc/\(worker.pid)/limits", encoding: .utf8)
        func limit(_ name: String) -> [Substring]? {
            limits.split(separator: "\n").first { $0.hasPrefix(name) }?.dropFirst(name.count).split(separator: " ")
        }
        #expect(limit("Max core file size")?.prefix(2) == ["0", "0"])
        #expect(limit("Max file size")?.prefix(2) == ["0", "0"])
        #expect(limit("Max open files")?.prefix(2) == ["4", "4"])
        #expect(limit("Max processes")?.prefix(2) == ["0", "0"])
        #expect(limit("Max address space")?.prefix(2) == ["1073741824", "1073741824"])
        worker.finish()
    }

    @Test func refusesToStartWithoutASocket() throws {
        // fd 3 on /dev/null instead of a socket: a person running the binary by hand.
        let worker = try WorkerProcess(
            executable: "/bin/sh",
            arguments: ["-c", "exec \"$0\" 3</dev/null", WorkerProcess.scannerPath]
        )
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .exited(WorkerExitCode.startupFailed.rawValue))
    }

    @Test func exitsCleanlyOnEOF() throws {
        let (worker, _) = try WorkerProcess.ready()
        _ = try worker.scan(scanRequest(["hello"]))
        shutdown(worker.socket, Int32(SHUT_WR))
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .exited(WorkerExitCode.closed.rawValue))
        // Reaped: no zombie left behind.
        #expect(access("/proc/\(worker.pid)", F_OK) != 0)
    }

    @Test func exitsOnAFrameThatDoesNotDecode() throws {
        let (worker, _) = try WorkerProcess.ready()
        worker.send([0xff, 0xff, 0xff, 0xff])
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .exited(WorkerExitCode.protocolViolation.rawValue))
    }

    @Test func exitsOnAMessageThatIsNotARequest() throws {
        let (worker, _) = try WorkerProcess.ready()
        worker.send(try WorkerReady(detectorCount: 1, faultInjection: false, pid: 1).encodedFrame())
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .exited(WorkerExitCode.protocolViolation.rawValue))
    }

    @Test func theShippedWorkerHasNoFaultHooks() throws {
        let (worker, _) = try WorkerProcess.ready()
        for fault in ["crash", "hang", "syscall", "garbage", "oom", "slow:5000"] {
            let reply = try worker.scan(scanRequest(["EGRESS-FAULT:\(fault)", validGitHubToken]), timeout: 2000)
            #expect(reply.status == .ok)
            #expect(reply.findings.map(\.segment) == [1])
        }
        worker.closeSocket()
        #expect(worker.waitForExit() == .exited(0))
    }
}
