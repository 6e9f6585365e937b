/// The scanner pool's decisions, without processes or sockets (README, "The scanner pool"): scans
/// sent to idle workers first and then queued behind a worker's current scan up to
/// `maxInFlightPerWorker` (a worker answers in order, and one that already has its next request in
/// its socket scans it without waiting to be woken), a deadline per scan from the moment it is the
/// worker's current one, respawn with capped exponential backoff, one retry of a scan whose worker
/// died, refusal of a body that killed two workers, "unavailable" when no worker can run, and
/// liveness probes of idle workers (a worker stopped while idle is found before a scan lands on it).
///
/// A retried scan, and one too large to queue behind others, runs alone: only on an idle worker,
/// with nothing sent behind it, so a second death is its own and not a neighbour's.
///
/// The I/O shell (`ScannerPool`) feeds events in and carries out the returned actions. Events name
/// a worker by slot and incarnation, so news about a process that was already replaced is ignored.
struct ScannerPoolStateMachine {
    struct Configuration: Equatable {
        var workerCount: Int
        /// First respawn delay after a crash; doubles per consecutive failure up to `maximumBackoff`.
        var initialBackoff: Duration = .milliseconds(100)
        var maximumBackoff: Duration = .seconds(10)
        /// Scans sent to one worker before it answers the first (1: one at a time).
        var maxInFlightPerWorker = 1
    }

    struct WorkerID: Hashable, CustomStringConvertible {
        var slot: Int
        var incarnation: Int
        var description: String { "\(slot).\(incarnation)" }
    }

    typealias JobID = UInt64

    enum Failure: Error, Equatable {
        /// No worker is running or starting.
        case unavailable
        /// The body killed two workers (crash, hang past the deadline, or a bad reply).
        case poisonBody
    }

    enum Action: Equatable {
        case spawn(WorkerID)
        /// Send the job to the worker; arm its deadline unless the worker is already on another.
        case send(JobID, to: WorkerID)
        /// The worker answered its current scan and goes on with this one, sent earlier: its deadline
        /// starts now.
        case awaitNext(JobID, from: WorkerID)
        /// The job finished on this worker; disarm its deadline and deliver the reply.
        case deliver(JobID, from: WorkerID)
        case fail(JobID, Failure)
        case kill(WorkerID)
        case scheduleRespawn(slot: Int, after: Duration)
        /// Send the worker an empty scan and arm its deadline: an idle worker must still answer.
        case probe(WorkerID)
    }

    enum Death: Equatable {
        /// The process exited or the socket closed.
        case exited
        /// The scan deadline passed; the worker was killed.
        case timedOut
        /// An idle worker did not answer its liveness probe in time; it was killed.
        case unresponsive
        /// The worker answered with something that is not a valid reply.
        case protocolViolation
    }

    fileprivate enum WorkerState: Equatable {
        case starting
        case idle
        /// Scanning the first; the others were sent behind it, in order.
        case busy([JobID])
        /// Idle, answering a liveness probe; takes scans again once it has.
        case probing
        /// Killed (or known dead) and waiting for its exit to be observed.
        case dying
        case backingOff
        case stopped
    }

    fileprivate struct Worker {
        var incarnation: Int
        var state: WorkerState
        var consecutiveFailures = 0
    }

    private let configuration: Configuration
    private var workers: [Worker]
    private var queue: [JobID] = []
    /// How many workers died while running each job still in the pool.
    private var attempts: [JobID: Int] = [:]
    /// Jobs too large to queue behind another scan.
    private var alone: Set<JobID> = []
    private var stopping = false

    init(configuration: Configuration) {
        precondition(configuration.workerCount > 0)
        self.configuration = configuration
        workers = Array(repeating: Worker(incarnation: 0, state: .stopped), count: configuration.workerCount)
    }

    /// Spawns every worker.
    mutating func start() -> [Action] {
        (0..<workers.count).map { spawnAction(slot: $0) }
    }

    /// - Parameter pipelinable: whether the job may wait in a worker's socket behind another scan
    ///   (small ones do; a large one would hold up the scans behind it).
    mutating func submit(_ job: JobID, pipelinable: Bool = true) -> [Action] {
        guard !stopping, workers.contains(where: \.canServeSoon) else { return [.fail(job, .unavailable)] }
        attempts[job] = 0
        if !pipelinable { alone.insert(job) }
        queue.append(job)
        return dispatch()
    }

    /// The job's client went away; forget it if it has not been sent yet.
    mutating func cancel(_ job: JobID) {
        if let index = queue.firstIndex(of: job) {
            queue.remove(at: index)
            attempts[job] = nil
            alone.remove(job)
        }
    }

    mutating func workerReady(_ id: WorkerID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state == .starting else { return [] }
        workers[id.slot].state = .idle
        return dispatch()
    }

    /// The worker answered `job`; only an answer to its current scan counts (a worker answers in order).
    mutating func replyReceived(_ id: WorkerID, job: JobID) -> [Action] {
        guard isCurrent(id), case .busy(let inFlight) = workers[id.slot].state, inFlight.first == job else { return [] }
        let rest = Array(inFlight.dropFirst())
        workers[id.slot].state = rest.isEmpty ? .idle : .busy(rest)
        // A worker that finishes a scan is healthy: later crashes start the backoff afresh.
        workers[id.slot].consecutiveFailures = 0
        attempts[job] = nil
        alone.remove(job)
        var actions: [Action] = [.deliver(job, from: id)]
        if let next = rest.first { actions.append(.awaitNext(next, from: id)) }
        return actions + dispatch()
    }

    /// The scan deadline of `job`, the current scan of worker `id`, passed.
    mutating func deadlinePassed(_ id: WorkerID, job: JobID) -> [Action] {
        guard isCurrent(id), case .busy(let inFlight) = workers[id.slot].state, inFlight.first == job else { return [] }
        return workerFailed(id, death: .timedOut) + [.kill(id)]
    }

    /// The worker sent garbage: it is killed, and treated like a crash.
    mutating func protocolViolation(_ id: WorkerID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state != .dying else { return [] }
        return workerFailed(id, death: .protocolViolation) + [.kill(id)]
    }

    /// The worker's socket closed: whatever it had is retried elsewhere at once, and it takes no
    /// more scans, although its process is only reaped later (``workerExited(_:)``).
    mutating func socketClosed(_ id: WorkerID) -> [Action] {
        guard isCurrent(id) else { return [] }
        switch workers[id.slot].state {
        case .starting, .idle, .busy, .probing: return workerFailed(id, death: .exited) + failQueueIfNothingCanRun()
        case .dying, .backingOff, .stopped: return []
        }
    }

    /// Whether `id` is up and taking scans or probes (not starting, not on its way out).
    func isServing(_ id: WorkerID) -> Bool {
        isCurrent(id) && workers[id.slot].state.isServing
    }

    /// Whether `id` is starting (so a ready message from it is its first and only one).
    func isStarting(_ id: WorkerID) -> Bool {
        isCurrent(id) && workers[id.slot].state == .starting
    }

    /// The worker's process is gone (its socket closed and it was reaped).
    mutating func workerExited(_ id: WorkerID) -> [Action] {
        guard isCurrent(id) else { return [] }
        var actions: [Action] = []
        if workers[id.slot].state != .dying {
            actions += workerFailed(id, death: .exited)
        }
        if stopping {
            workers[id.slot].state = .stopped
            return actions
        }
        workers[id.slot].state = .backingOff
        let failures = max(1, workers[id.slot].consecutiveFailures)
        actions.append(.scheduleRespawn(slot: id.slot, after: backoff(afterFailures: failures)))
        actions += failQueueIfNothingCanRun()
        return actions
    }

    /// Time to check the idle workers: each is sent a probe it must answer within the scan deadline.
    mutating func probeDue() -> [Action] {
        guard !stopping else { return [] }
        var actions: [Action] = []
        for slot in workers.indices where workers[slot].state == .idle {
            workers[slot].state = .probing
            actions.append(.probe(WorkerID(slot: slot, incarnation: workers[slot].incarnation)))
        }
        return actions
    }

    /// Whether `id` is answering a probe (so a reply from it is the probe's answer).
    func isProbing(_ id: WorkerID) -> Bool {
        isCurrent(id) && workers[id.slot].state == .probing
    }

    mutating func probeAnswered(_ id: WorkerID) -> [Action] {
        guard isProbing(id) else { return [] }
        workers[id.slot].state = .idle
        return dispatch()
    }

    /// The probe's deadline passed: the worker is hung (or stopped) although it had no scan.
    mutating func probeDeadlinePassed(_ id: WorkerID) -> [Action] {
        guard isProbing(id) else { return [] }
        return workerFailed(id, death: .unresponsive) + [.kill(id)]
    }

    /// The backoff for `slot` elapsed.
    mutating func respawnDue(slot: Int) -> [Action] {
        guard !stopping, workers[slot].state == .backingOff else { return [] }
        return [spawnAction(slot: slot)]
    }

    /// Spawning failed outright (the executable is missing, fork failed).
    mutating func spawnFailed(_ id: WorkerID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state == .starting else { return [] }
        workers[id.slot].consecutiveFailures += 1
        workers[id.slot].state = .backingOff
        let delay = backoff(afterFailures: workers[id.slot].consecutiveFailures)
        return [.scheduleRespawn(slot: id.slot, after: delay)] + failQueueIfNothingCanRun()
    }

    /// Stops respawning, fails queued jobs, and kills every live worker.
    mutating func stop() -> [Action] {
        stopping = true
        var actions = queue.map { Action.fail($0, .unavailable) }
        queue.removeAll()
        for slot in workers.indices {
            switch workers[slot].state {
            case .starting, .idle, .busy, .probing:
                if case .busy(let inFlight) = workers[slot].state {
                    actions += inFlight.map { .fail($0, .unavailable) }
                }
                workers[slot].state = .dying
                actions.append(.kill(WorkerID(slot: slot, incarnation: workers[slot].incarnation)))
            case .backingOff:
                workers[slot].state = .stopped
            case .dying, .stopped:
                break
            }
        }
        attempts.removeAll()
        alone.removeAll()
        return actions
    }

    /// Workers that are up and scanning or waiting (for metrics and tests).
    var liveWorkers: Int { workers.filter(\.state.isServing).count }
    var queuedJobs: Int { queue.count }
    var busyWorkers: Int { workers.filter { $0.state.isBusy }.count }
    /// Scans sent and not yet answered, over all workers.
    var scansInFlight: Int {
        workers.reduce(0) { count, worker in
            if case .busy(let inFlight) = worker.state { return count + inFlight.count }
            return count
        }
    }

    // MARK: Internals

    private func isCurrent(_ id: WorkerID) -> Bool {
        workers.indices.contains(id.slot) && workers[id.slot].incarnation == id.incarnation
    }

    private mutating func spawnAction(slot: Int) -> Action {
        workers[slot].incarnation += 1
        workers[slot].state = .starting
        return .spawn(WorkerID(slot: slot, incarnation: workers[slot].incarnation))
    }

    /// Marks the worker dying and settles the jobs it had: each retried once (alone), refused the
    /// second time. Jobs sent behind the current one count as tried too: which of them killed the
    /// worker is not known, and a retry alone finds out.
    private mutating func workerFailed(_ id: WorkerID, death: Death) -> [Action] {
        var actions: [Action] = []
        if case .busy(let inFlight) = workers[id.slot].state {
            var retried: [JobID] = []
            for job in inFlight {
                let count = (attempts[job] ?? 0) + 1
                if count >= 2 {
                    attempts[job] = nil
                    alone.remove(job)
                    actions.append(.fail(job, .poisonBody))
                } else {
                    attempts[job] = count
                    alone.insert(job)
                    retried.append(job)
                }
            }
            queue.insert(contentsOf: retried, at: 0)
        }
        workers[id.slot].consecutiveFailures += 1
        workers[id.slot].state = .dying
        return actions + dispatch()
    }

    /// Sends queued jobs in order: to an idle worker if there is one, else behind the scans of the
    /// least loaded worker with room, unless the job runs alone or the worker has one that does.
    private mutating func dispatch() -> [Action] {
        var actions: [Action] = []
        while let job = queue.first {
            let slot: Int
            if let idle = workers.firstIndex(where: { $0.state == .idle }) {
                slot = idle
                workers[slot].state = .busy([job])
            } else if !alone.contains(job), let busy = leastLoadedWorkerWithRoom() {
                slot = busy
                guard case .busy(let inFlight) = workers[slot].state else { break }
                workers[slot].state = .busy(inFlight + [job])
            } else {
                break
            }
            queue.removeFirst()
            actions.append(.send(job, to: WorkerID(slot: slot, incarnation: workers[slot].incarnation)))
        }
        return actions
    }

    private func leastLoadedWorkerWithRoom() -> Int? {
        var best: (slot: Int, load: Int)?
        for (slot, worker) in workers.enumerated() {
            guard case .busy(let inFlight) = worker.state, inFlight.count < configuration.maxInFlightPerWorker,
                !inFlight.contains(where: alone.contains)
            else { continue }
            if best.map({ inFlight.count < $0.load }) ?? true { best = (slot, inFlight.count) }
        }
        return best?.slot
    }

    private mutating func failQueueIfNothingCanRun() -> [Action] {
        guard !workers.contains(where: \.canServeSoon) else { return [] }
        let failed = queue.map { Action.fail($0, .unavailable) }
        for job in queue {
            attempts[job] = nil
            alone.remove(job)
        }
        queue.removeAll()
        return failed
    }

    private func backoff(afterFailures failures: Int) -> Duration {
        var delay = configuration.initialBackoff
        for _ in 1..<max(1, failures) {
            delay *= 2
            if delay >= configuration.maximumBackoff { return configuration.maximumBackoff }
        }
        return min(delay, configuration.maximumBackoff)
    }
}

extension ScannerPoolStateMachine.WorkerState {
    var isBusy: Bool {
        if case .busy = self { return true }
        return false
    }

    /// Up: idle, scanning or answering a probe.
    var isServing: Bool {
        switch self {
        case .idle, .busy, .probing: true
        case .starting, .dying, .backingOff, .stopped: false
        }
    }
}

extension ScannerPoolStateMachine.Worker {
    /// Up, or on its way up: a queued scan will be served.
    var canServeSoon: Bool {
        switch state {
        case .starting, .idle, .busy, .probing: true
        case .dying, .backingOff, .stopped: false
        }
    }
}
