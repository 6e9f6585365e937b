/// The scanner pool's decisions, without processes or sockets (README, "The scanner pool"): one scan per worker at a
/// time, a deadline per scan, respawn with capped exponential backoff, one retry of a scan whose
/// worker died, refusal of a body that killed two workers, "unavailable" when no worker can run, and
/// liveness probes of idle workers (a worker stopped while idle is found before a scan lands on it).
///
/// The I/O shell (`ScannerPool`) feeds events in and carries out the returned actions. Events name
/// a worker by slot and incarnation, so news about a process that was already replaced is ignored.
struct ScannerPoolStateMachine {
    struct Configuration: Equatable {
        var workerCount: Int
        /// First respawn delay after a crash; doubles per consecutive failure up to `maximumBackoff`.
        var initialBackoff: Duration = .milliseconds(100)
        var maximumBackoff: Duration = .seconds(10)
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
        /// Send the job to the worker and arm its deadline.
        case send(JobID, to: WorkerID)
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
        case busy(JobID)
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

    mutating func submit(_ job: JobID) -> [Action] {
        guard !stopping, workers.contains(where: \.canServeSoon) else { return [.fail(job, .unavailable)] }
        attempts[job] = 0
        queue.append(job)
        return dispatch()
    }

    /// The job's client went away; forget it if it has not been sent yet.
    mutating func cancel(_ job: JobID) {
        if let index = queue.firstIndex(of: job) {
            queue.remove(at: index)
            attempts[job] = nil
        }
    }

    mutating func workerReady(_ id: WorkerID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state == .starting else { return [] }
        workers[id.slot].state = .idle
        return dispatch()
    }

    mutating func replyReceived(_ id: WorkerID, job: JobID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state == .busy(job) else { return [] }
        workers[id.slot].state = .idle
        // A worker that finishes a scan is healthy: later crashes start the backoff afresh.
        workers[id.slot].consecutiveFailures = 0
        attempts[job] = nil
        return [.deliver(job, from: id)] + dispatch()
    }

    /// The scan deadline of `job` passed on worker `id`.
    mutating func deadlinePassed(_ id: WorkerID, job: JobID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state == .busy(job) else { return [] }
        return workerFailed(id, death: .timedOut) + [.kill(id)]
    }

    /// The worker sent garbage: it is killed, and treated like a crash.
    mutating func protocolViolation(_ id: WorkerID) -> [Action] {
        guard isCurrent(id), workers[id.slot].state != .dying else { return [] }
        return workerFailed(id, death: .protocolViolation) + [.kill(id)]
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
                if case .busy(let job) = workers[slot].state { actions.append(.fail(job, .unavailable)) }
                workers[slot].state = .dying
                actions.append(.kill(WorkerID(slot: slot, incarnation: workers[slot].incarnation)))
            case .backingOff:
                workers[slot].state = .stopped
            case .dying, .stopped:
                break
            }
        }
        attempts.removeAll()
        return actions
    }

    /// Workers that are up and scanning or waiting (for metrics and tests).
    var liveWorkers: Int { workers.filter { $0.state == .idle || $0.state == .probing || $0.state.isBusy }.count }
    var queuedJobs: Int { queue.count }
    var busyWorkers: Int { workers.filter { $0.state.isBusy }.count }

    // MARK: Internals

    private func isCurrent(_ id: WorkerID) -> Bool {
        workers.indices.contains(id.slot) && workers[id.slot].incarnation == id.incarnation
    }

    private mutating func spawnAction(slot: Int) -> Action {
        workers[slot].incarnation += 1
        workers[slot].state = .starting
        return .spawn(WorkerID(slot: slot, incarnation: workers[slot].incarnation))
    }

    /// Marks the worker dying and settles the job it was running: retried once, refused the second time.
    private mutating func workerFailed(_ id: WorkerID, death: Death) -> [Action] {
        var actions: [Action] = []
        if case .busy(let job) = workers[id.slot].state {
            let count = (attempts[job] ?? 0) + 1
            if count >= 2 {
                attempts[job] = nil
                actions.append(.fail(job, .poisonBody))
            } else {
                attempts[job] = count
                queue.insert(job, at: 0)
            }
        }
        workers[id.slot].consecutiveFailures += 1
        workers[id.slot].state = .dying
        return actions + dispatch()
    }

    private mutating func dispatch() -> [Action] {
        var actions: [Action] = []
        while !queue.isEmpty, let slot = workers.firstIndex(where: { $0.state == .idle }) {
            let job = queue.removeFirst()
            workers[slot].state = .busy(job)
            actions.append(.send(job, to: WorkerID(slot: slot, incarnation: workers[slot].incarnation)))
        }
        return actions
    }

    private mutating func failQueueIfNothingCanRun() -> [Action] {
        guard !workers.contains(where: \.canServeSoon) else { return [] }
        let failed = queue.map { Action.fail($0, .unavailable) }
        for job in queue { attempts[job] = nil }
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
