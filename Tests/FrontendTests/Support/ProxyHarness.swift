import EgressRoutes
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

@testable import Frontend

/// Event lines captured from an in-process proxy.
final class EventCapture: Sendable {
    private let storage = NIOLockedValueBox<[String]>([])

    var sink: EventLog.Sink { { line in self.storage.withLockedValue { $0.append(line) } } }
    var lines: [String] { storage.withLockedValue { $0 } }

    /// Parsed events, optionally only those named `name`.
    func events(_ name: String? = nil) -> [[String: Any]] {
        lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { name == nil || ($0["event"] as? String) == name }
    }
}

/// An in-process proxy on 127.0.0.1 with its own state directory, routing test host names to
/// local upstream servers with `--connect-to`.
final class ProxyHarness: Sendable {
    let server: ProxyServer
    let events: EventCapture
    let directory: TemporaryDirectory
    /// The proxy's CA certificate, for clients to trust.
    let caPath: String
    let authority: CertificateAuthority
    /// Requests the proxy holds for an operator under the `supervise` policy.
    let supervision: SupervisionQueue
    let metrics: EgressMetrics

    var port: Int { server.port }
    var proxyURL: String { "http://127.0.0.1:\(port)" }

    private init(
        server: ProxyServer,
        directory: TemporaryDirectory,
        caPath: String,
        authority: CertificateAuthority,
        events: EventCapture,
        supervision: SupervisionQueue,
        metrics: EgressMetrics
    ) {
        self.server = server
        self.directory = directory
        self.caPath = caPath
        self.authority = authority
        self.events = events
        self.supervision = supervision
        self.metrics = metrics
    }

    static func start(
        routes yaml: String,
        environment: [String: String] = [:],
        connectTo: [(host: String, port: Int, upstreamPort: Int)] = [],
        trusting pki: TestPKI? = nil,
        allowPrivateUpstreams: Bool = true,
        logLevel: LogLevel? = nil,
        scanners: Int? = nil,
        scannerExecutable: String = siblingExecutable("egress-scanner"),
        scanTimeout: TimeAmount = .seconds(5),
        scannerProbeInterval: TimeAmount = .seconds(5),
        maxScanBytes: Int = ScannerOptions.defaultMaxScanBytes,
        upstreamResponseTimeout: TimeAmount = .seconds(600),
        superviseTimeout: TimeAmount = .seconds(300),
        connectionTimeouts: ConnectionTimeouts = ConnectionTimeouts(),
        limits: ProxyLimits = ProxyLimits()
    ) async throws -> ProxyHarness {
        let directory = try TemporaryDirectory()
        let config = try RoutesConfig.parse(yaml: yaml, file: "routes.yaml")
        let tokens = try TokenStore.resolve(config, environment: environment)
        let (authority, _) = try CertificateAuthority.loadOrCreate(stateDirectory: directory.path)
        var options = ProxyOptions(routes: config, tokens: tokens, authority: authority)
        options.listenHost = "127.0.0.1"
        options.listenPort = 0
        options.eventLoopThreads = 2
        options.allowPrivateUpstreams = allowPrivateUpstreams
        options.connectTo = connectTo.map {
            ConnectToOverride(host: $0.host, port: $0.port, address: "127.0.0.1", addressPort: $0.upstreamPort)
        }
        if let pki { options.upstreamTrustRoots = [try pki.rootCertificate] }
        if let scanners {
            options.scanners = ScannerOptions(
                executable: scannerExecutable,
                count: scanners,
                scanTimeout: scanTimeout,
                faultInjection: scannerExecutable.hasSuffix("ScannerFaultsWorker"),
                probeInterval: scannerProbeInterval
            )
        }
        options.maxScanBytes = maxScanBytes
        options.upstreamResponseTimeout = upstreamResponseTimeout
        options.superviseTimeout = superviseTimeout
        options.connectionTimeouts = connectionTimeouts
        options.limits = limits
        let capture = EventCapture()
        let events = EventLog(level: logLevel ?? config.log, sink: capture.sink)
        let supervision = SupervisionQueue()
        let metrics = EgressMetrics()
        let server = try await ProxyServer.start(
            options: options,
            events: events,
            supervision: supervision,
            metrics: metrics
        )
        let harness = ProxyHarness(
            server: server,
            directory: directory,
            caPath: CertificateAuthority.certificatePath(stateDirectory: directory.path),
            authority: authority,
            events: capture,
            supervision: supervision,
            metrics: metrics
        )
        return harness
    }

    func shutdown() async {
        await server.shutdown()
    }
}
