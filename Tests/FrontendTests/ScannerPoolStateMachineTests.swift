import Testing

@testable import Frontend

@Suite("Scanner pool state machine")
struct ScannerPoolStateMachineTests {
    typealias Machine = ScannerPoolStateMachine
    typealias ID = Machine.WorkerID

    static func started(_ count: Int) -> (Machine, [ID]) {
        var machine = Machine(configuration: .init(workerCount: count))
        let ids = machine.start().map { action -> ID in
            guard case .spawn(let id) = action else { preconditionFailure("expected spawn, got \(action)") }
            return id
        }
        for id in ids { _ = machine.workerReady(id) }
        return (machine, ids)
    }

    @Test("one scan per worker; the rest wait in order")
    func oneScanPerWorker() {
        var (machine, ids) = Self.started(2)
        #expect(machine.submit(1) == [.send(1, to: ids[0])])
        #expect(machine.submit(2) == [.send(2, to: ids[1])])
        #expect(machine.submit(3) == [])
        #expect(machine.queuedJobs == 1)
        #expect(machine.replyReceived(ids[1], job: 2) == [.deliver(2, from: ids[1]), .send(3, to: ids[1])])
    }

    @Test("idle workers are probed; an answer makes them idle again, and a scan waits for it")
    func probesOfIdleWorkers() {
        var (machine, ids) = Self.started(2)
        #expect(machine.submit(1) == [.send(1, to: ids[0])])
        // Only the idle worker is probed; the busy one proves itself by answering its scan.
        #expect(machine.probeDue() == [.probe(ids[1])])
        #expect(machine.isProbing(ids[1]))
        #expect(machine.submit(2) == [])
        #expect(machine.probeAnswered(ids[1]) == [.send(2, to: ids[1])])
        #expect(!machine.isProbing(ids[1]))
        #expect(machine.probeAnswered(ids[1]) == [], "a second answer is not one")
        #expect(machine.liveWorkers == 2)
    }

    @Test("an idle worker that does not answer its probe is killed and replaced; no scan is lost")
    func unansweredProbe() {
        var (machine, ids) = Self.started(2)
        #expect(machine.probeDue() == [.probe(ids[0]), .probe(ids[1])])
        #expect(machine.submit(5) == [], "a scan waits while every worker is being probed")
        #expect(machine.probeDeadlinePassed(ids[0]) == [.kill(ids[0])])
        #expect(machine.probeDeadlinePassed(ids[0]) == [], "once")
        #expect(machine.probeAnswered(ids[1]) == [.send(5, to: ids[1])])
        let exit = machine.workerExited(ids[0])
        #expect(exit == [.scheduleRespawn(slot: 0, after: .milliseconds(100))])
        #expect(machine.probeDue() == [], "the busy worker and the dying one are not probed")
        // Stopping kills a worker that is being probed, and probes nothing afterwards.
        var (all, allIDs) = Self.started(1)
        _ = all.probeDue()
        #expect(all.stop() == [.kill(allIDs[0])])
        #expect(all.probeDue() == [])
    }

    @Test("a scan whose worker dies is retried once on another worker")
    func retryOnce() {
        var (machine, ids) = Self.started(2)
        _ = machine.submit(7)
        let actions = machine.workerExited(ids[0])
        #expect(actions.contains(.send(7, to: ids[1])))
        #expect(actions.contains(.scheduleRespawn(slot: 0, after: .milliseconds(100))))
        #expect(machine.replyReceived(ids[1], job: 7) == [.deliver(7, from: ids[1])])
    }

    @Test("a body that kills two workers is refused")
    func poisonBody() {
        var (machine, ids) = Self.started(2)
        _ = machine.submit(9)
        _ = machine.workerExited(ids[0])
        let second = machine.deadlinePassed(ids[1], job: 9)
        #expect(second.contains(.fail(9, .poisonBody)))
        #expect(second.contains(.kill(ids[1])))
    }

    @Test("a timed-out scan kills the worker; its exit then schedules the respawn")
    func timeout() {
        var (machine, ids) = Self.started(1)
        _ = machine.submit(1)
        #expect(machine.deadlinePassed(ids[0], job: 1) == [.kill(ids[0])])
        // The retry waits for a live worker; the exit is observed next.
        let exit = machine.workerExited(ids[0])
        #expect(exit.contains(.scheduleRespawn(slot: 0, after: .milliseconds(100))))
        #expect(exit.contains(.fail(1, .unavailable)))
    }

    @Test("no worker can run → scans are refused at once")
    func unavailable() {
        var (machine, ids) = Self.started(1)
        _ = machine.workerExited(ids[0])
        #expect(machine.submit(5) == [.fail(5, .unavailable)])
        // After the backoff the worker comes back and scans flow again.
        guard case .spawn(let next)? = machine.respawnDue(slot: 0).first else {
            Issue.record("no respawn")
            return
        }
        #expect(next.slot == 0 && next.incarnation == ids[0].incarnation + 1)
        _ = machine.workerReady(next)
        #expect(machine.submit(6) == [.send(6, to: next)])
    }

    @Test("backoff doubles per consecutive failure and is capped; a finished scan resets it")
    func backoff() {
        var machine = Machine(
            configuration: .init(workerCount: 1, initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(350))
        )
        var delays: [Duration] = []
        var id: ID
        guard case .spawn(let first)? = machine.start().first else { return }
        id = first
        for _ in 0..<4 {
            _ = machine.workerReady(id)
            for action in machine.workerExited(id) {
                if case .scheduleRespawn(_, let delay) = action { delays.append(delay) }
            }
            guard case .spawn(let next)? = machine.respawnDue(slot: 0).first else { return }
            id = next
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350)])
        _ = machine.workerReady(id)
        _ = machine.submit(1)
        _ = machine.replyReceived(id, job: 1)
        let afterHealthy = machine.workerExited(id)
        #expect(afterHealthy.contains(.scheduleRespawn(slot: 0, after: .milliseconds(100))))
    }

    @Test("news about a replaced incarnation is ignored")
    func staleEvents() {
        var (machine, ids) = Self.started(1)
        _ = machine.workerExited(ids[0])
        guard case .spawn(let next)? = machine.respawnDue(slot: 0).first else { return }
        #expect(machine.workerReady(ids[0]) == [])
        #expect(machine.workerExited(ids[0]) == [])
        #expect(machine.workerReady(next) == [])  // nothing queued
        #expect(machine.liveWorkers == 1)
    }

    @Test("a garbage reply kills the worker and retries the scan")
    func protocolViolation() {
        var (machine, ids) = Self.started(2)
        _ = machine.submit(3)
        let actions = machine.protocolViolation(ids[0])
        #expect(actions.contains(.kill(ids[0])))
        #expect(actions.contains(.send(3, to: ids[1])))
        // Its exit is then only a respawn, not a second failure of the scan.
        let exit = machine.workerExited(ids[0])
        #expect(exit == [.scheduleRespawn(slot: 0, after: .milliseconds(100))])
    }

    @Test("stop fails pending scans, kills live workers and never respawns")
    func stop() {
        var (machine, ids) = Self.started(1)
        _ = machine.submit(1)
        _ = machine.submit(2)
        let actions = machine.stop()
        #expect(actions.contains(.fail(1, .unavailable)))
        #expect(actions.contains(.fail(2, .unavailable)))
        #expect(actions.contains(.kill(ids[0])))
        #expect(machine.workerExited(ids[0]) == [])
        #expect(machine.respawnDue(slot: 0) == [])
        #expect(machine.submit(3) == [.fail(3, .unavailable)])
    }

    @Test("a spawn failure backs off and, with no other worker, refuses queued scans")
    func spawnFailure() {
        var machine = Machine(configuration: .init(workerCount: 1))
        guard case .spawn(let id)? = machine.start().first else { return }
        _ = machine.submit(1)
        let actions = machine.spawnFailed(id)
        #expect(actions.contains(.fail(1, .unavailable)))
        #expect(actions.contains(.scheduleRespawn(slot: 0, after: .milliseconds(100))))
    }
}
