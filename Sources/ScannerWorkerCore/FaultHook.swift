import IPC

/// What a fault hook did with a request.
public enum FaultHookOutcome: Sendable {
    /// Nothing: scan and reply as usual.
    case proceed
    /// The hook answered (or deliberately did not): skip the scan and the reply.
    case handled
}

/// Test-only: called with every request before it is scanned, inside the sandbox. Only the
/// `ScannerFaultsWorker` executable installs one; a worker with a hook advertises
/// `faultInjection: true` in its ``IPC/WorkerReady``, which a production frontend refuses.
public typealias FaultHook = (_ request: ScanRequest, _ socket: WorkerSocket) -> FaultHookOutcome
