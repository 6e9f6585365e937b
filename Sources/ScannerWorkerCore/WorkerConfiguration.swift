import Detectors
import IPC

/// How a worker process runs. The shipped `egress-scanner` uses the defaults.
public struct WorkerConfiguration {
    /// The limits the worker locks itself into.
    public var sandbox: SandboxPolicy
    /// The largest request frame accepted and reply frame sent.
    public var maxFrameSize: Int
    /// Test-only fault injection; `nil` in production.
    public var faultHook: FaultHook?
    /// The detectors compiled before lock-down: the catalog, plus test-only ones in the fault worker.
    public var definitions: [DetectorDefinition]

    public init(
        sandbox: SandboxPolicy = .standard,
        maxFrameSize: Int = WireProtocol.defaultMaxFrameSize,
        faultHook: FaultHook? = nil,
        definitions: [DetectorDefinition] = DetectorCatalog.all
    ) {
        self.sandbox = sandbox
        self.maxFrameSize = maxFrameSize
        self.faultHook = faultHook
        self.definitions = definitions
    }
}
