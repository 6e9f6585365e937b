import Glibc
import IPC
import ScannerWorkerCore
import Testing

/// The test-only fault worker: each fault, and proof that the sandbox is what stops the bad ones.
@Suite struct FaultInjectionTests {
    private func faultWorker() throws -> WorkerProcess {
        let (worker, ready) = try WorkerProcess.ready(WorkerProcess.faultsWorkerPath)
        #expect(ready.faultInjection)
        #expect(worker.status("Seccomp") == "2")
        return worker
    }

    private func fault(_ kind: String, id: UInt64 = 9) -> ScanRequest {
        scanRequest(id: id, ["EGRESS-FAULT:\(kind)", validGitHubToken])
    }

    @Test func scansNormallyWithoutAFaultMarker() throws {
        let worker = try faultWorker()
        // The marker counts only at the start of a segment.
        let reply = try worker.scan(scanRequest([validGitHubToken, "see EGRESS-FAULT:crash"]))
        #expect(reply.status == .ok)
        #expect(reply.findings.count == 1)
        worker.closeSocket()
        #expect(worker.waitForExit() == .exited(0))
    }

    @Test func aForbiddenSystemCallKillsTheWorkerWithSIGSYS() throws {
        let worker = try faultWorker()
        try worker.send(fault("syscall"))
        // No reply ("open was allowed") ever comes: the filter kills the process at the open.
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .signaled(SIGSYS))
    }

    @Test func crashDiesOfSIGSEGV() throws {
        let worker = try faultWorker()
        try worker.send(fault("crash"))
        #expect(worker.next(timeout: 10_000) == .endOfFile)
        #expect(worker.waitForExit() == .signaled(SIGSEGV))
    }

    @Test func garbageIsRejectedByTheFrontendsDecoder() throws {
        let worker = try faultWorker()
        try worker.send(fault("garbage"))
        guard case .rejected(let error) = worker.next(timeout: 10_000) else {
            Issue.record("garbage was not rejected")
            return
        }
        #expect(error.description.contains("exceeds the maximum"))
        #expect(worker.finish() == .signaled(SIGKILL))
    }

    @Test func hangGetsNoReplyAndIsKilledAndReaped() throws {
        let worker = try faultWorker()
        try worker.send(fault("hang"))
        #expect(worker.next(timeout: 300) == .timedOut)
        #expect(worker.waitForExit(timeout: 0) == nil)
        try WorkerSpawner.kill(worker.pid)
        #expect(worker.waitForExit() == .signaled(SIGKILL))
    }

    @Test func slowAnswersNormallyAfterTheDelay() throws {
        let worker = try faultWorker()
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let reply = try worker.scan(fault("slow:300"))
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let elapsed = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1_000_000
        #expect(elapsed >= 300)
        #expect(reply.status == .ok)
        #expect(reply.findings == [WireFinding(detectorID: "github_token_classic", segment: 1, start: 0, end: 40)])
        worker.closeSocket()
        #expect(worker.waitForExit() == .exited(0))
    }

    @Test func outOfMemoryKillsTheWorker() throws {
        let worker = try faultWorker()
        try worker.send(fault("oom"))
        #expect(worker.next(timeout: 60_000) == .endOfFile)
        let ending = worker.waitForExit()
        // The Swift runtime's allocation failure tries to print "Fatal error: failed to allocate" on
        // stderr, and under the filter that write is itself fatal (today: SIGSYS). Any signal will
        // do: it is not an exit and not our kill.
        guard case .signaled(let signal) = ending else {
            Issue.record("expected death by a signal, got \(String(describing: ending))")
            return
        }
        #expect(signal != SIGKILL)
    }

    @Test func anUnknownFaultIsAnErrorReply() throws {
        let worker = try faultWorker()
        let reply = try worker.scan(fault("meteor"))
        #expect(reply.status == .error)
        #expect(reply.message == "fault injection: unknown fault")
        worker.finish()
    }
}
