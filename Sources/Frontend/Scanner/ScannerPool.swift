import Detectors
import IPC
import NIOCore
import NIOPosix
import Synchronization

/// The frontend's side of DLP isolation: N `egress-scanner` processes, each on its own socketpair,
/// driven by `ScannerPoolStateMachine`. Everything mutable lives on one event loop.
final class ScannerPool: @unchecked Sendable {
    // @unchecked: every stored var below is read and written only on `loop` (asserted).

    struct Configuration: Sendable {
        var executable: String
        var workerCount: Int
        var scanTimeout: TimeAmount = .seconds(2)
        /// A worker that has not said "ready" by then is killed and respawned.
        var startTimeout: TimeAmount = .seconds(20)
        var maxFrameSize = WireProtocol.defaultMaxFrameSize
        /// A worker announcing fault injection is refused unless this is set (tests only).
        var acceptsFaultInjection = false
        /// How often idle workers are probed; one that does not answer within `scanTimeout` is
        /// killed and replaced (`--scanner-probe-interval`).
        var probeInterval: TimeAmount = .seconds(5)
        /// Scans one worker may have at once, its current one included (``ScannerPoolStateMachine``).
        var maxInFlightPerWorker = 4
        /// Larger scan frames wait for an idle worker rather than queue behind another scan.
        var maxPipelinedFrameBytes = 64 << 10
    }

    /// The scan id of a liveness probe (real scans count from 1).
    static let probeID: ScannerPoolStateMachine.JobID = 0

    private struct LiveWorker {
        var id: ScannerPoolStateMachine.WorkerID
        var pid: Int32
        var channel: (any Channel)?
        /// The deadline the worker is under: its start, a scan, or a liveness probe.
        var timer: CoalescingTimer<WorkerDeadline>?
        /// Why the pool killed it, for the event when its exit is seen.
        var killedBecause: String?
        var isReady = false
    }

    private enum WorkerDeadline {
        case start
        case scan(ScannerPoolStateMachine.JobID)
        case probe
    }

    private struct PendingJob {
        var job: ScanJob
        /// The scan request, encoded by the submitting event loop.
        var frame: ByteBuffer
        var promise: EventLoopPromise<ScanOutcome>
        var submitted: ContinuousClock.Instant
    }

    let loop: any EventLoop
    private let configuration: Configuration
    private let events: EventLog
    private let reaper: NIOThreadPool
    private let metrics: EgressMetrics?
    private var machine: ScannerPoolStateMachine
    private var workers: [Int: LiveWorker] = [:]
    private var jobs: [ScannerPoolStateMachine.JobID: PendingJob] = [:]
    /// Taken by submitting loops, so each encodes its own scan request off the pool's loop.
    private let nextJobID = Atomic<ScannerPoolStateMachine.JobID>(1)
    /// The detector lists scans have named, each encoded once: routes send the same few lists
    /// (one per route and direction), shared arrays that compare equal by identity.
    private let encodedDetectorLists = Mutex<[EncodedDetectorIDs]>([])
    private var everStarted: Set<Int> = []
    private var readyWaiters: [EventLoopPromise<Void>] = []
    private var exitWaiters: [EventLoopPromise<Void>] = []
    private var probeTask: RepeatedTask?

    init(
        configuration: Configuration,
        loop: any EventLoop,
        events: EventLog,
        reaper: NIOThreadPool,
        metrics: EgressMetrics? = nil
    ) {
        self.metrics = metrics
        self.configuration = configuration
        self.loop = loop
        self.events = events
        self.reaper = reaper
        self.machine = ScannerPoolStateMachine(
            configuration: .init(
                workerCount: configuration.workerCount,
                maxInFlightPerWorker: configuration.maxInFlightPerWorker
            )
        )
    }

    /// Spawns the workers; succeeds once every one of them said "ready" (or fails after the start
    /// timeout), so the proxy starts with DLP working.
    func start() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            let ready = self.loop.makePromise(of: Void.self)
            self.readyWaiters.append(ready)
            self.perform(self.machine.start())
            let interval = self.configuration.probeInterval
            self.probeTask = self.loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                self.perform(self.machine.probeDue())
            }
            return ready.futureResult
        }
    }

    /// `ids` in wire form, encoded the first time a scan names them. Lists that cannot be encoded
    /// are not kept (their scans are refused); the kept ones are bounded by the route table's lists.
    private func encoded(_ ids: [String]) throws(FrameError) -> EncodedDetectorIDs {
        if let known = encodedDetectorLists.withLock({ lists in lists.first { $0.ids == ids } }) { return known }
        let encoded = try EncodedDetectorIDs(ids)
        encodedDetectorLists.withLock { lists in
            // A reload can name new lists; the oldest are let go rather than kept for ever.
            if lists.count >= Self.maximumEncodedDetectorLists { lists.removeFirst() }
            lists.append(encoded)
        }
        return encoded
    }

    private static let maximumEncodedDetectorLists = 64

    func scan(_ job: ScanJob) -> EventLoopFuture<ScanOutcome> {
        let promise = loop.makePromise(of: ScanOutcome.self)
        let submitted = ContinuousClock.now
        let id = nextJobID.wrappingAdd(1, ordering: .relaxed).oldValue
        // Too large for one frame: refused without troubling a worker.
        let frame = try? ByteBuffer(
            bytes: ScanRequest.encodedFrame(
                id: id,
                direction: job.direction.rawValue,
                detectorIDs: encoded(job.detectorIDs),
                redact: job.redact,
                segments: job.segments,
                maxFrameSize: configuration.maxFrameSize
            )
        )
        let pipelinable = (frame?.readableBytes ?? 0) <= configuration.maxPipelinedFrameBytes
        loop.execute {
            guard let frame else {
                let placeholder = PendingJob(job: job, frame: ByteBuffer(), promise: promise, submitted: submitted)
                self.settle(placeholder, .failure(.limitExceeded))
                return
            }
            self.jobs[id] = PendingJob(job: job, frame: frame, promise: promise, submitted: submitted)
            self.perform(self.machine.submit(id, pipelinable: pipelinable))
        }
        return promise.futureResult
    }

    /// Kills every worker and waits until all are reaped.
    func shutdown() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.probeTask?.cancel()
            self.probeTask = nil
            self.perform(self.machine.stop())
            if self.workers.isEmpty { return self.loop.makeSucceededVoidFuture() }
            let done = self.loop.makePromise(of: Void.self)
            self.exitWaiters.append(done)
            return done.futureResult
        }
    }

    /// Worker process ids, for tests.
    func workerPIDs() -> EventLoopFuture<[Int32]> {
        loop.submit { self.workers.values.map(\.pid).sorted() }
    }

    // MARK: Carrying out actions

    private func perform(_ actions: [ScannerPoolStateMachine.Action]) {
        loop.assertInEventLoop()
        for action in actions {
            switch action {
            case .spawn(let id): spawn(id)
            case .send(let job, let id): send(job, to: id)
            case .awaitNext(let job, let id): workers[id.slot]?.timer?.arm(.scan(job), in: configuration.scanTimeout)
            case .deliver(let job, let id): deliver(job, from: id)
            case .fail(let job, let failure):
                if let pending = jobs.removeValue(forKey: job) {
                    settle(pending, .failure(failure == .poisonBody ? .poisonBody : .unavailable))
                }
            case .kill(let id): kill(id, because: workers[id.slot]?.killedBecause ?? "stopped")
            case .probe(let id): probe(id)
            case .scheduleRespawn(let slot, let delay):
                loop.scheduleTask(in: TimeAmount(delay)) {
                    self.perform(self.machine.respawnDue(slot: slot))
                }
            }
        }
        metrics?.scannerPool(queued: machine.queuedJobs, busy: machine.busyWorkers, live: machine.liveWorkers)
        if machine.liveWorkers == configuration.workerCount, !readyWaiters.isEmpty {
            for waiter in readyWaiters { waiter.succeed() }
            readyWaiters.removeAll()
        }
    }

    private func spawn(_ id: ScannerPoolStateMachine.WorkerID) {
        let spawned: SpawnedWorker
        do {
            spawned = try WorkerSpawner.spawn(executable: configuration.executable)
        } catch {
            emitScannerEvent(slot: id.slot, pid: nil, status: "spawn_failed", detail: error.description)
            failReadyWaiters(error)
            perform(machine.spawnFailed(id))
            return
        }
        var worker = LiveWorker(id: id, pid: spawned.pid)
        // Moved with every scan, and stopped when the worker's socket closes.
        worker.timer = CoalescingTimer(loop: loop) { deadline in self.deadlinePassed(deadline, worker: id) }
        worker.timer?.arm(.start, in: configuration.startTimeout)
        workers[id.slot] = worker
        let maxFrameSize = configuration.maxFrameSize
        ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        WorkerChannelHandler(
                            maxFrameSize: maxFrameSize,
                            onMessage: { self.received($0, from: id) },
                            onViolation: {
                                self.workerMisbehaved(id, status: "protocol_error", detail: "invalid frame")
                            },
                            onClose: { self.socketClosed(id) }
                        )
                    )
                }
            }
            .withConnectedSocket(spawned.socket)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if self.workers[id.slot]?.id == id {
                        self.workers[id.slot]?.channel = channel
                    } else {
                        channel.close(promise: nil)
                    }
                case .failure:
                    // The socket never became a channel: the process is useless, end it.
                    self.workerMisbehaved(id, status: "spawn_failed", detail: "cannot attach to the worker socket")
                    self.socketClosed(id)
                }
            }
    }

    private func received(_ message: WireMessage, from id: ScannerPoolStateMachine.WorkerID) {
        guard workers[id.slot]?.id == id else { return }
        switch message {
        case .workerReady(let ready):
            // Said once, at start: a worker saying it again while it has scans would disarm their
            // deadline and leave them waiting for ever.
            guard machine.isStarting(id) else {
                // One already on its way out (start deadline passed, shutdown) may still have its
                // first ready in the socket: nothing to report.
                if machine.isServing(id) {
                    workerMisbehaved(id, status: "protocol_error", detail: "ready message from a worker already started")
                }
                return
            }
            guard ready.protocolVersion == WireProtocol.version else {
                workerMisbehaved(id, status: "protocol_error", detail: "protocol version \(ready.protocolVersion)")
                return
            }
            guard !ready.faultInjection || configuration.acceptsFaultInjection else {
                failReadyWaiters(
                    ScannerStartError(detail: "the worker is a fault-injection build; pass --fault-injection to use it")
                )
                workerMisbehaved(id, status: "protocol_error", detail: "fault-injection worker refused")
                return
            }
            workers[id.slot]?.timer?.disarm()
            workers[id.slot]?.isReady = true
            if everStarted.contains(id.slot) {
                metrics?.workerRestarted()
                emitScannerEvent(slot: id.slot, pid: workers[id.slot]?.pid, status: "restarted", detail: nil)
            }
            everStarted.insert(id.slot)
            perform(machine.workerReady(id))
        case .scanReply(let reply) where reply.id == Self.probeID:
            // An empty scan has one honest answer: ok, nothing found, nothing redacted.
            guard machine.isProbing(id), reply.status == .ok, reply.findings.isEmpty, reply.redactedSegments == nil
            else {
                workerMisbehaved(id, status: "protocol_error", detail: "unexpected answer to a liveness probe")
                return
            }
            workers[id.slot]?.timer?.disarm()
            perform(machine.probeAnswered(id))
        case .scanReply(let reply):
            guard let pending = jobs[reply.id] else {
                workerMisbehaved(id, status: "protocol_error", detail: "reply to an unknown scan")
                return
            }
            // A lying worker is handled like one talking garbage: killed, and the scan retried once
            // elsewhere; nothing it said reaches the request path.
            if let problem = ScanReplyCheck.problem(with: reply, for: pending.job) {
                workerMisbehaved(id, status: "protocol_error", detail: "inconsistent reply: \(problem)")
                return
            }
            pendingReplies[reply.id] = reply
            perform(machine.replyReceived(id, job: reply.id))
            // A reply the machine did not expect from this worker is dropped.
            pendingReplies[reply.id] = nil
        case .scanRequest:
            workerMisbehaved(id, status: "protocol_error", detail: "unexpected message")
        }
    }

    private var pendingReplies: [ScannerPoolStateMachine.JobID: ScanReply] = [:]

    private func send(_ jobID: ScannerPoolStateMachine.JobID, to id: ScannerPoolStateMachine.WorkerID) {
        // A job or worker that is gone by now was already settled by the state machine.
        guard let pending = jobs[jobID], let worker = workers[id.slot], worker.id == id else { return }
        guard let channel = worker.channel else {
            // The socket is being attached to the loop; that completes within this loop tick.
            loop.execute { self.send(jobID, to: id) }
            return
        }
        metrics?.scanQueueWait(.now - pending.submitted)
        // Sent behind another scan, its deadline starts when the worker reaches it (awaitNext).
        if workers[id.slot]?.timer?.isArmed == false {
            workers[id.slot]?.timer?.arm(.scan(jobID), in: configuration.scanTimeout)
        }
        channel.writeAndFlush(pending.frame, promise: nil)
    }

    /// An empty scan to an idle worker, under the scan deadline.
    private func probe(_ id: ScannerPoolStateMachine.WorkerID) {
        guard let worker = workers[id.slot], worker.id == id, let channel = worker.channel,
            let frame = try? ScanRequest(id: Self.probeID, direction: 0, detectorIDs: [], redact: false, segments: [])
                .encodedFrame(maxFrameSize: configuration.maxFrameSize)
        else {
            perform(machine.probeAnswered(id))
            return
        }
        workers[id.slot]?.timer?.arm(.probe, in: configuration.scanTimeout)
        channel.writeAndFlush(channel.allocator.buffer(bytes: frame), promise: nil)
    }

    /// A worker that did not say "ready" in time, or did not answer a scan or a probe within the
    /// scan deadline, is reported hung; the machine decides what follows.
    private func deadlinePassed(_ deadline: WorkerDeadline, worker id: ScannerPoolStateMachine.WorkerID) {
        guard workers[id.slot]?.id == id else { return }
        let detail: String
        switch deadline {
        case .start:
            workerMisbehaved(id, status: "hung", detail: "no ready message within the start timeout")
            return
        case .scan: detail = "scan deadline passed"
        case .probe: detail = "idle worker did not answer its liveness probe"
        }
        emitScannerEvent(slot: id.slot, pid: workers[id.slot]?.pid, status: "hung", detail: detail)
        workers[id.slot]?.killedBecause = "hung"
        if case .scan(let job) = deadline {
            perform(machine.deadlinePassed(id, job: job))
        } else {
            perform(machine.probeDeadlinePassed(id))
        }
    }

    private func deliver(_ jobID: ScannerPoolStateMachine.JobID, from id: ScannerPoolStateMachine.WorkerID) {
        workers[id.slot]?.timer?.disarm()
        guard let pending = jobs.removeValue(forKey: jobID) else { return }
        guard let reply = pendingReplies.removeValue(forKey: jobID) else {
            settle(pending, .failure(.workerError))
            return
        }
        switch reply.status {
        case .ok:
            settle(pending, .success(ScanOutcome(findings: reply.findings, redactedSegments: reply.redactedSegments)))
        case .limitExceeded:
            settle(pending, .failure(.limitExceeded))
        case .error:
            settle(pending, .failure(.workerError))
        }
    }

    /// Completes a scan for the request path, and counts it.
    private func settle(_ pending: PendingJob, _ result: Result<ScanOutcome, ScanFailure>) {
        let outcome: String
        switch result {
        case .success(let scan): outcome = scan.isClean ? "clean" : "findings"
        case .failure: outcome = "failed"
        }
        metrics?.scanFinished(
            direction: pending.job.direction == .outbound ? "outbound" : "inbound",
            outcome: outcome,
            duration: .now - pending.submitted
        )
        pending.promise.completeWith(result.mapError { $0 as any Error })
    }

    private func workerMisbehaved(_ id: ScannerPoolStateMachine.WorkerID, status: String, detail: String) {
        guard workers[id.slot]?.id == id else { return }
        emitScannerEvent(slot: id.slot, pid: workers[id.slot]?.pid, status: status, detail: detail)
        workers[id.slot]?.killedBecause = status
        perform(machine.protocolViolation(id))
    }

    private func kill(_ id: ScannerPoolStateMachine.WorkerID, because: String) {
        guard let worker = workers[id.slot], worker.id == id else { return }
        workers[id.slot]?.killedBecause = because
        try? WorkerSpawner.kill(worker.pid)
    }

    /// The socket closed: the process is gone or going. Reap it off the loop, then report.
    private func socketClosed(_ id: ScannerPoolStateMachine.WorkerID) {
        guard let worker = workers[id.slot], worker.id == id else { return }
        worker.timer?.stop()
        try? WorkerSpawner.kill(worker.pid)
        // Its scans go elsewhere now, not once the process is reaped; it gets no new ones.
        perform(machine.socketClosed(id))
        let pid = worker.pid
        reaper.runIfActive(eventLoop: loop) { try WorkerSpawner.waitForExit(pid) }.whenComplete { result in
            let detail = (try? result.get()).map(\.description) ?? "not reaped"
            let killedBecause = self.workers[id.slot]?.killedBecause
            if self.workers[id.slot]?.isReady == false {
                // A worker that dies before saying "ready" would die again: report it to start-up.
                self.failReadyWaiters(ScannerStartError(detail: "a worker \(detail) before it was ready"))
            }
            if killedBecause == nil {
                self.emitScannerEvent(slot: id.slot, pid: pid, status: "crashed", detail: detail)
            } else if killedBecause != "stopped" {
                self.emitScannerEvent(slot: id.slot, pid: pid, status: "killed", detail: detail)
            }
            if self.workers[id.slot]?.id == id { self.workers[id.slot] = nil }
            self.perform(self.machine.workerExited(id))
            if self.workers.isEmpty, !self.exitWaiters.isEmpty {
                for waiter in self.exitWaiters { waiter.succeed() }
                self.exitWaiters.removeAll()
            }
        }
    }

    struct ScannerStartError: Error, CustomStringConvertible {
        var detail: String
        var description: String { detail }
    }

    private func failReadyWaiters(_ error: any Error) {
        for waiter in readyWaiters { waiter.fail(error) }
        readyWaiters.removeAll()
    }

    private func emitScannerEvent(slot: Int, pid: Int32?, status: String, detail: String?) {
        var fields: [(String, JSONValue)] = [("status", .string(status)), ("worker", .int(slot))]
        if let pid { fields.append(("pid", .int(Int(pid)))) }
        if let detail { fields.append(("detail", .string(detail))) }
        events.emit(EgressEvent(name: "egress_scanner", fields: fields), minimum: .blocks)
    }
}
