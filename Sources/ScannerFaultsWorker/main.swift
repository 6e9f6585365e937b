import Detectors
import ScannerWorkerCore

// The test-only fault-injecting worker (see FaultInjector). It advertises `faultInjection: true` in
// WorkerReady; a production frontend refuses such a worker.
ScannerWorker.run(
    WorkerConfiguration(
        faultHook: FaultInjector.hook,
        definitions: DetectorCatalog.all + [FaultInjector.catastrophicBacktracking]
    )
)
