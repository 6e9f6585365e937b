import Testing

@testable import Frontend

/// Scans queued behind a worker's current one: sent in order, answered in order, each under its
/// own deadline from when the worker reaches it, and on a worker's death retried alone.
@Suite("Scanner pool pipelining")
struct ScannerPoolPipeliningTests {
    typealias Machine = ScannerPoolStateMachine
    typealias ID = Machine.WorkerID

    static func started(_ count: Int, inFlight: Int) -> (Machine, [ID]) {
        var machine = Machine(configuration: .init(workerCount: count, maxInFlightPerWorker: inFlight))
        let ids = machine.start().compactMap { action -> ID? in
            guard case .spawn(let id) = action else { return nil }
            return id
        }
        for id in ids { _ = machine.workerReady(id) }
        return (machine, ids)
    }

    @Test("idle workers first, then behind the least loaded, up to the limit; the rest wait")
    func dispatchOrder() {
        var (machine, ids) = Self.started(2, inFlight: 3)
        #expect(machine.submit(1) == [.send(1, to: ids[0])])
        #expect(machine.submit(2) == [.send(2, to: ids[1])])
        #expect(machine.submit(3) == [.send(3, to: ids[0])])
        #expect(machine.submit(4) == [.send(4, to: ids[1])])
        #expect(machine.submit(5) == [.send(5, to: ids[0])])
        #expect(machine.submit(6) == [.send(6, to: ids[1])])
        #expect(machine.submit(7) == [])
        #expect(machine.queuedJobs == 1)
        #expect(machine.scansInFlight == 6)
        #expect(machine.busyWorkers == 2)
    }

    @Test("answers count only in order; the next scan's deadline starts with the answer before it")
    func answersInOrder() {
        var (machine, ids) = Self.started(1, inFlight: 3)
        for job: Machine.JobID in 1...4 { _ = machine.submit(job) }
        #expect(machine.replyReceived(ids[0], job: 2) == [], "not the current scan")
        #expect(machine.deadlinePassed(ids[0], job: 2) == [], "its deadline has not started")
        #expect(machine.replyReceived(ids[0], job: 1) == [.deliver(1, from: ids[0]), .awaitNext(2, from: ids[0]), .send(4, to: ids[0])])
        #expect(machine.replyReceived(ids[0], job: 2) == [.deliver(2, from: ids[0]), .awaitNext(3, from: ids[0])])
        #expect(machine.replyReceived(ids[0], job: 3) == [.deliver(3, from: ids[0]), .awaitNext(4, from: ids[0])])
        #expect(machine.replyReceived(ids[0], job: 4) == [.deliver(4, from: ids[0])])
        #expect(machine.busyWorkers == 0)
        #expect(machine.probeDue() == [.probe(ids[0])], "idle again")
    }

    @Test("a dead worker's scans are retried alone, each on an idle worker with nothing behind it")
    func retriesRunAlone() {
        var (machine, ids) = Self.started(2, inFlight: 3)
        for job in 1...6 { _ = machine.submit(Machine.JobID(job)) }
        // Worker 0 had 1, 3 and 5; it hangs on 1.
        #expect(machine.deadlinePassed(ids[0], job: 1) == [.kill(ids[0])])
        #expect(machine.queuedJobs == 3)
        #expect(machine.submit(7) == [], "worker 1 is full")
        // Worker 1 answers 2: the retried 1 waits for an idle worker, and 7 may not pass it.
        #expect(machine.replyReceived(ids[1], job: 2) == [.deliver(2, from: ids[1]), .awaitNext(4, from: ids[1])])
        _ = machine.replyReceived(ids[1], job: 4)
        #expect(machine.replyReceived(ids[1], job: 6) == [.deliver(6, from: ids[1]), .send(1, to: ids[1])])
        // Nothing is sent behind a scan that runs alone.
        #expect(machine.scansInFlight == 1)
        #expect(machine.replyReceived(ids[1], job: 1) == [.deliver(1, from: ids[1]), .send(3, to: ids[1])])
        #expect(machine.replyReceived(ids[1], job: 3) == [.deliver(3, from: ids[1]), .send(5, to: ids[1])])
        // 7 was never tried, but it is queued behind 5, which runs alone.
        #expect(machine.replyReceived(ids[1], job: 5) == [.deliver(5, from: ids[1]), .send(7, to: ids[1])])
    }

    @Test("a body that kills a worker alone after killing one in company is refused; its neighbours pass")
    func poisonAmongNeighbours() {
        var (machine, ids) = Self.started(2, inFlight: 2)
        for job: Machine.JobID in 1...4 { _ = machine.submit(job) }
        // Worker 0 had 1 and 3; job 1 kills it.
        #expect(machine.protocolViolation(ids[0]) == [.kill(ids[0])])
        #expect(machine.workerExited(ids[0]) == [.scheduleRespawn(slot: 0, after: .milliseconds(100))])
        #expect(machine.replyReceived(ids[1], job: 2) == [.deliver(2, from: ids[1]), .awaitNext(4, from: ids[1])])
        #expect(machine.replyReceived(ids[1], job: 4) == [.deliver(4, from: ids[1]), .send(1, to: ids[1])])
        // Alone this time: the second death is its own.
        let killedAgain = machine.protocolViolation(ids[1])
        #expect(killedAgain.contains(.fail(1, .poisonBody)))
        #expect(!killedAgain.contains(.fail(3, .poisonBody)))
        guard case .spawn(let respawned)? = machine.respawnDue(slot: 0).first else {
            Issue.record("no respawn")
            return
        }
        #expect(machine.workerReady(respawned) == [.send(3, to: respawned)])
        #expect(machine.replyReceived(respawned, job: 3) == [.deliver(3, from: respawned)])
    }

    @Test("a large scan waits for an idle worker and nothing goes behind it")
    func largeScansRunAlone() {
        var (machine, ids) = Self.started(1, inFlight: 4)
        #expect(machine.submit(1) == [.send(1, to: ids[0])])
        #expect(machine.submit(2, pipelinable: false) == [])
        #expect(machine.submit(3) == [], "in order: it does not pass the large one")
        #expect(machine.replyReceived(ids[0], job: 1) == [.deliver(1, from: ids[0]), .send(2, to: ids[0])])
        #expect(machine.submit(4) == [])
        #expect(machine.replyReceived(ids[0], job: 2) == [.deliver(2, from: ids[0]), .send(3, to: ids[0]), .send(4, to: ids[0])])
    }

    @Test("a worker whose socket closed takes no more scans; its scans go elsewhere before it is reaped")
    func closedSocketRetriesAtOnce() {
        var (machine, ids) = Self.started(3, inFlight: 2)
        for job: Machine.JobID in 1...4 { _ = machine.submit(job) }
        // Worker 0 had 1 and 4. Its socket closes; the reap comes later.
        #expect(machine.socketClosed(ids[0]) == [])
        #expect(machine.socketClosed(ids[0]) == [], "once")
        #expect(machine.submit(5) == [], "in order, behind the retries")
        #expect(machine.replyReceived(ids[1], job: 2) == [.deliver(2, from: ids[1]), .send(1, to: ids[1])])
        #expect(machine.replyReceived(ids[2], job: 3) == [.deliver(3, from: ids[2]), .send(4, to: ids[2])])
        #expect(machine.replyReceived(ids[1], job: 1) == [.deliver(1, from: ids[1]), .send(5, to: ids[1])])
        // An idle worker whose socket closed is not picked either.
        #expect(machine.replyReceived(ids[2], job: 4) == [.deliver(4, from: ids[2])])
        #expect(machine.socketClosed(ids[2]) == [])
        #expect(machine.submit(6) == [.send(6, to: ids[1])])
        #expect(machine.workerExited(ids[0]) == [.scheduleRespawn(slot: 0, after: .milliseconds(100))])
    }

    @Test("when the last worker's socket closes, its scans fail at once as unavailable")
    func lastWorkerClosed() {
        var (machine, ids) = Self.started(1, inFlight: 2)
        _ = machine.submit(1)
        _ = machine.submit(2)
        #expect(machine.isServing(ids[0]))
        let actions = machine.socketClosed(ids[0])
        #expect(actions.contains(.fail(1, .unavailable)))
        #expect(actions.contains(.fail(2, .unavailable)))
        #expect(!machine.isServing(ids[0]))
        #expect(machine.queuedJobs == 0)
    }

    @Test("only a starting worker's ready message counts")
    func readyOnlyWhenStarting() {
        var (machine, ids) = Self.started(1, inFlight: 2)
        #expect(!machine.isStarting(ids[0]))
        _ = machine.submit(1)
        #expect(machine.workerReady(ids[0]) == [])
        #expect(!machine.isStarting(ids[0]))
        var fresh = Machine(configuration: .init(workerCount: 1))
        guard case .spawn(let id)? = fresh.start().first else {
            Issue.record("no spawn")
            return
        }
        #expect(fresh.isStarting(id))
    }

    @Test("stopping fails every scan in flight")
    func stopFailsAll() {
        var (machine, ids) = Self.started(1, inFlight: 3)
        for job: Machine.JobID in 1...4 { _ = machine.submit(job) }
        let actions = machine.stop()
        for job: Machine.JobID in 1...4 { #expect(actions.contains(.fail(job, .unavailable))) }
        #expect(actions.contains(.kill(ids[0])))
    }
}
