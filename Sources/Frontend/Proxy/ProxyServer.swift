import EgressRoutes
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// What `egress run` starts with, after the command line and routes file were validated.
public struct ProxyOptions: Sendable {
    public var routes: RoutesConfig
    public var tokens: TokenStore
    public var authority: CertificateAuthority
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    public var upstreamTrustRoots: [NIOSSLCertificate] = []
    public var connectTo: [ConnectToOverride] = []
    public var allowPrivateUpstreams = false
    /// `--supervise-timeout`: how long a held request waits for the operator before it is denied.
    public var superviseTimeout: TimeAmount = .seconds(300)
    /// `--upstream-timeout`: the most an upstream may take to start answering.
    public var upstreamResponseTimeout: TimeAmount = .seconds(600)
    public var eventLoopThreads = System.coreCount
    /// DLP workers; `nil` runs without DLP, refusing every route that needs it.
    public var scanners: ScannerOptions?
    public var maxScanBytes = ScannerOptions.defaultMaxScanBytes
    public var connectionTimeouts = ConnectionTimeouts()
    public var limits = ProxyLimits()

    public init(routes: RoutesConfig, tokens: TokenStore, authority: CertificateAuthority) {
        self.routes = routes
        self.tokens = tokens
        self.authority = authority
    }
}

/// The DLP worker pool's settings.
public struct ScannerOptions: Sendable {
    public static let defaultMaxScanBytes = 32 << 20
    /// The most `--max-scan-bytes` may be: a scan and its redacted reply must fit one IPC frame.
    public static let maximumMaxScanBytes = 64 << 20

    public var executable: String
    public var count: Int
    public var scanTimeout: TimeAmount
    /// Accept a test-only worker that misbehaves on request; the boot line says so.
    public var faultInjection: Bool
    /// How often idle workers must answer a liveness probe (`--scanner-probe-interval`).
    public var probeInterval: TimeAmount
    /// Scans one worker may have at once, its current one included (`--scanner-queue`).
    public var queuePerWorker: Int

    public init(
        executable: String,
        count: Int,
        scanTimeout: TimeAmount = .seconds(2),
        faultInjection: Bool = false,
        probeInterval: TimeAmount = .seconds(5),
        queuePerWorker: Int = 4
    ) {
        self.executable = executable
        self.count = count
        self.scanTimeout = scanTimeout
        self.faultInjection = faultInjection
        self.probeInterval = probeInterval
        self.queuePerWorker = queuePerWorker
    }
}

/// The proxy listener and everything it owns: event loops, helper threads and upstream pools.
public final class ProxyServer: Sendable {
    public let localAddress: SocketAddress
    private let group: MultiThreadedEventLoopGroup
    private let blockingWork: BlockingWorkPools
    private let serverChannel: any Channel
    let services: ProxyServices
    private let quiesce: ServerQuiescingHelper
    private let stopping = NIOLockedValueBox(false)

    private init(
        localAddress: SocketAddress,
        group: MultiThreadedEventLoopGroup,
        blockingWork: BlockingWorkPools,
        serverChannel: any Channel,
        services: ProxyServices,
        quiesce: ServerQuiescingHelper
    ) {
        self.localAddress = localAddress
        self.group = group
        self.blockingWork = blockingWork
        self.serverChannel = serverChannel
        self.services = services
        self.quiesce = quiesce
    }

    /// Binds the listener and writes the boot event.
    public static func start(
        options: ProxyOptions,
        events: EventLog,
        supervision: SupervisionQueue = SupervisionQueue(),
        metrics: EgressMetrics = EgressMetrics(),
        bootFields: [(String, JSONValue)] = []
    ) async throws -> ProxyServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
        let blockingWork = BlockingWorkPools()
        blockingWork.start()
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            if !options.upstreamTrustRoots.isEmpty {
                tls.additionalTrustRoots = [.certificates(options.upstreamTrustRoots)]
            }
            tls.applicationProtocols = ["http/1.1"]
            let http1TLSContext = try NIOSSLContext(configuration: tls)
            tls.applicationProtocols = ["h2", "http/1.1"]
            let socketTuning = SocketTuning(events: events)
            var settings = UpstreamSettings(
                tlsContext: try NIOSSLContext(configuration: tls),
                http1TLSContext: http1TLSContext,
                socketTuning: socketTuning,
                ownListeners: OwnListeners(),
                connectTo: options.connectTo,
                allowPrivateUpstreams: options.allowPrivateUpstreams,
                resolverPool: blockingWork.resolver
            )
            settings.responseTimeout = options.upstreamResponseTimeout
            var scanner: ScannerPool?
            if let scanners = options.scanners {
                let pool = ScannerPool(
                    configuration: .init(
                        executable: scanners.executable,
                        workerCount: scanners.count,
                        scanTimeout: scanners.scanTimeout,
                        acceptsFaultInjection: scanners.faultInjection,
                        probeInterval: scanners.probeInterval,
                        maxInFlightPerWorker: scanners.queuePerWorker
                    ),
                    loop: group.next(),
                    events: events,
                    reaper: blockingWork.reaper,
                    metrics: metrics
                )
                do {
                    try await pool.start().get()
                } catch {
                    try? await pool.shutdown().get()
                    throw ProxyServerError("scanner workers did not start (\(scanners.executable)): \(error)")
                }
                scanner = pool
            }
            let services = ProxyServices(
                routes: options.routes,
                tokens: options.tokens,
                events: events,
                interception: InterceptionContextCache(authority: options.authority, threadPool: blockingWork.minting),
                upstreamSettings: settings,
                scanner: scanner,
                maxScanBytes: options.maxScanBytes,
                supervision: supervision,
                superviseTimeout: options.superviseTimeout,
                metrics: metrics,
                connectionTimeouts: options.connectionTimeouts,
                limits: options.limits,
                eventLoops: Array(group.makeIterator())
            )
            // The helper completes a promise when it is released, after our loops are gone: give it
            // the process-wide loops, which outlive every proxy.
            let quiesce = ServerQuiescingHelper(group: MultiThreadedEventLoopGroup.singleton)
            let limiter = ConnectionLimiter(maximum: options.limits.maxConnections, events: events)
            let channel = try await ServerBootstrap(group: group)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                        // Out of descriptors: pause accepting for a second, report, resume.
                        try sync.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: true))
                        try sync.addHandler(AcceptErrorReporter(events: events))
                    }
                }
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard limiter.admit(channel) else {
                            try channel.pipeline.syncOperations.addHandler(OverCapacityResponder())
                            return
                        }
                        socketTuning.apply(to: channel)
                        try channel.pipeline.syncOperations.addHandler(ClientBytesObserver())
                        try ClientPipeline.addHTTPHandlers(
                            to: channel.pipeline.syncOperations,
                            mode: .forwardProxy,
                            services: services
                        )
                    }
                }
                .bind(host: options.listenHost, port: options.listenPort)
                .get()
            guard let address = channel.localAddress, let port = address.port else {
                throw ProxyServerError("listener has no local address")
            }
            services.ownListeners.add(port: port)
            events.emitBoot(
                .boot(
                    level: events.level.label,
                    listen: HostPort(host: options.listenHost, port: port).description,
                    routes: options.routes.routes.count,
                    scanners: options.scanners?.count ?? 0,
                    extra: (options.scanners.map { [("fault_injection", .bool($0.faultInjection))] }
                        ?? [("dlp", .string("off"))]) + bootFields
                )
            )
            return ProxyServer(
                localAddress: address,
                group: group,
                blockingWork: blockingWork,
                serverChannel: channel,
                services: services,
                quiesce: quiesce
            )
        } catch {
            try? await group.shutdownGracefully()
            try? await blockingWork.shutdownGracefully()
            throw error
        }
    }

    /// Puts a new routes file (with its tokens) in force at once, for requests that start from now
    /// on; exchanges already under way finish under the policy they started with. `logLevel` is the
    /// file's level unless the command line overrides it.
    public func reload(routes: RoutesConfig, tokens: TokenStore, logLevel: LogLevel) {
        services.replacePolicy(Policy(routes: routes, tokens: tokens))
        services.events.level = logLevel
    }

    /// Refuses proxy requests addressed to another of our listeners (the control listener on TCP):
    /// every local address at `port`, however it is spelled or resolved.
    public func refuseProxying(toPort port: Int) {
        services.ownListeners.add(port: port)
    }

    /// The listening port (useful with `--listen 127.0.0.1:0`).
    public var port: Int { localAddress.port ?? 0 }

    /// Graceful stop (SIGTERM): stops accepting, lets requests in flight finish — idle keep-alive
    /// connections close at once, busy ones after their response — for at most `drainTimeout`, then
    /// closes what is left, stops the scanner workers and the event loops.
    public func shutdown(drainTimeout: TimeAmount = .seconds(30)) async {
        // A second SIGTERM while draining changes nothing.
        let first = stopping.withLockedValue { stopping in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        let drained = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: drained)
        let deadline = group.next().scheduleTask(in: drainTimeout) {
            drained.fail(ProxyServerError("drain timeout"))
        }
        try? await drained.futureResult.get()
        deadline.cancel()
        try? await services.scanner?.shutdown().get()
        for future in services.closeIdleUpstreams() { try? await future.get() }
        try? await group.shutdownGracefully()
        try? await blockingWork.shutdownGracefully()
    }
}

public struct ProxyServerError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
