import CoreMetrics
import Prometheus

/// The sidecar's metrics (README, "Operating the sidecar"), recorded through swift-metrics into a Prometheus registry owned
/// by this object — never the process-wide bootstrap, so every proxy (and every test) has its own.
public final class EgressMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The pool's gauges are recorded at every step of the pool, so they are made once, not looked
    /// up in the registry each time.
    private let scanQueueDepth: CoreMetrics.Gauge
    private let scannersBusy: CoreMetrics.Gauge
    private let scannersLive: CoreMetrics.Gauge
    /// Likewise the per-request and per-scan series, by their label values: a lookup in the
    /// registry validates the name and takes its lock, on every request.
    private let requestsByDecision: [String: CoreMetrics.Counter]
    private let scansByDirectionAndOutcome: [String: [String: CoreMetrics.Counter]]
    private let scanDurationByDirection: [String: CoreMetrics.Timer]
    private let scanQueueWaitTimer: CoreMetrics.Timer

    private static let decisions = ["forwarded", "blocked", "failed"]
    private static let directions = ["outbound", "inbound"]
    private static let scanOutcomes = ["clean", "findings", "failed"]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Scans take microseconds to seconds; queue waits likewise.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        self.factory = factory
        scanQueueDepth = Gauge(label: "egress_scan_queue_depth", factory: factory)
        scannersBusy = Gauge(label: "egress_scanners_busy", factory: factory)
        scannersLive = Gauge(label: "egress_scanners_live", factory: factory)
        requestsByDecision = Dictionary(
            uniqueKeysWithValues: Self.decisions.map { decision in
                (decision, Self.requestCounter(decision, factory))
            }
        )
        var scans: [String: [String: CoreMetrics.Counter]] = [:]
        var durations: [String: CoreMetrics.Timer] = [:]
        for direction in Self.directions {
            durations[direction] = Self.scanDurationTimer(direction, factory)
            for outcome in Self.scanOutcomes {
                scans[direction, default: [:]][outcome] = Self.scanCounter(direction, outcome, factory)
            }
        }
        scansByDirectionAndOutcome = scans
        scanDurationByDirection = durations
        scanQueueWaitTimer = Timer(label: "egress_scan_queue_wait_seconds", factory: factory)
    }

    private static func requestCounter(_ decision: String, _ factory: PrometheusMetricsFactory) -> CoreMetrics.Counter {
        Counter(label: "egress_requests_total", dimensions: [("decision", decision)], factory: factory)
    }

    private static func scanCounter(
        _ direction: String,
        _ outcome: String,
        _ factory: PrometheusMetricsFactory
    ) -> CoreMetrics.Counter {
        Counter(label: "egress_scans_total", dimensions: [("direction", direction), ("outcome", outcome)], factory: factory)
    }

    private static func scanDurationTimer(_ direction: String, _ factory: PrometheusMetricsFactory) -> CoreMetrics.Timer {
        Timer(label: "egress_scan_duration_seconds", dimensions: [("direction", direction)], factory: factory)
    }

    /// One agent request settled: `forwarded` (sent upstream), `blocked` (refused by policy or DLP),
    /// or `failed` (upstream or scanner trouble, malformed requests).
    func requestSettled(_ decision: String) {
        (requestsByDecision[decision] ?? Self.requestCounter(decision, factory)).increment()
    }

    /// A DLP policy acted on a finding.
    func dlpAction(direction: String, action: String) {
        Counter(
            label: "egress_dlp_actions_total",
            dimensions: [("direction", direction), ("action", action)],
            factory: factory
        ).increment()
    }

    /// A scan finished: `clean`, `findings` or `failed`, and how long it took from submission.
    func scanFinished(direction: String, outcome: String, duration: Duration) {
        (scansByDirectionAndOutcome[direction]?[outcome] ?? Self.scanCounter(direction, outcome, factory))
            .increment()
        (scanDurationByDirection[direction] ?? Self.scanDurationTimer(direction, factory))
            .recordNanoseconds(duration.nanoseconds)
    }

    /// How long a scan waited for a free worker.
    func scanQueueWait(_ duration: Duration) {
        scanQueueWaitTimer.recordNanoseconds(duration.nanoseconds)
    }

    func workerRestarted() {
        Counter(label: "egress_scanner_restarts_total", factory: factory).increment()
    }

    /// The pool as it stands after each of its steps: scans waiting for a worker, workers scanning,
    /// workers up. A queue that stays above zero while every live worker is busy is the sign to
    /// raise `--scanners` (README, "Tuning the scanner pool").
    func scannerPool(queued: Int, busy: Int, live: Int) {
        scanQueueDepth.record(queued)
        scannersBusy.record(busy)
        scannersLive.record(live)
    }

    /// The Prometheus text exposition, with the number of requests held for the operator now.
    public func exposition(heldRequests: Int) -> String {
        Gauge(label: "egress_held_requests", factory: factory).record(heldRequests)
        return registry.emitToString()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
