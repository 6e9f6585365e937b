import EgressRoutes
import NIOConcurrencyHelpers
import NIOCore

/// Everything a client connection needs, shared by all connections: the policy, the credentials,
/// the event log, TLS interception and per-loop upstream pools.
final class ProxyServices: Sendable {
    private let currentPolicy: NIOLockedValueBox<Policy>
    let events: EventLog
    let interception: InterceptionContextCache
    let upstreamSettings: UpstreamSettings
    /// The DLP worker pool; `nil` only when the proxy runs without one, and then a route that needs
    /// a DLP decision is refused (fail closed) rather than forwarded unscanned.
    let scanner: ScannerPool?
    /// Bodies larger than this (after decoding) are refused on routes that scan them.
    let maxScanBytes: Int
    /// Requests held for the operator under the `supervise` policy.
    let supervision: SupervisionQueue
    let superviseTimeout: TimeAmount
    let metrics: EgressMetrics
    let connectionTimeouts: ConnectionTimeouts
    let limits: ProxyLimits
    /// Bytes held for DLP and supervise across all connections, against `limits.maxHeldBytes`.
    let heldBytes: HeldBytesBudget
    /// The proxy's own listeners: requests aimed at them are refused.
    var ownListeners: OwnListeners { upstreamSettings.ownListeners }

    private let pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>]

    init(
        routes: RoutesConfig,
        tokens: TokenStore,
        events: EventLog,
        interception: InterceptionContextCache,
        upstreamSettings: UpstreamSettings,
        scanner: ScannerPool?,
        maxScanBytes: Int,
        supervision: SupervisionQueue,
        superviseTimeout: TimeAmount,
        metrics: EgressMetrics,
        connectionTimeouts: ConnectionTimeouts = ConnectionTimeouts(),
        limits: ProxyLimits = ProxyLimits(),
        eventLoops: [any EventLoop]
    ) {
        self.connectionTimeouts = connectionTimeouts
        self.limits = limits
        self.heldBytes = HeldBytesBudget(limit: limits.maxHeldBytes)
        self.currentPolicy = NIOLockedValueBox(Policy(routes: routes, tokens: tokens))
        self.events = events
        self.interception = interception
        self.upstreamSettings = upstreamSettings
        self.scanner = scanner
        self.maxScanBytes = maxScanBytes
        self.supervision = supervision
        self.superviseTimeout = superviseTimeout
        self.metrics = metrics
        var pools: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>] = [:]
        for loop in eventLoops {
            // Built here, off the loop, and sent to it: the pool is touched only on `loop` afterwards.
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(
                UpstreamConnectionPool(eventLoop: loop, settings: upstreamSettings),
                eventLoop: loop
            )
        }
        self.pools = pools
    }

    /// The policy in force; each request reads it once, so a reload never splits a request.
    var policy: Policy { currentPolicy.withLockedValue { $0 } }

    func replacePolicy(_ policy: Policy) {
        currentPolicy.withLockedValue { $0 = policy }
    }

    /// The pool of the calling event loop. Every channel of the server runs on one of these loops.
    func pool(on eventLoop: any EventLoop) -> UpstreamConnectionPool {
        guard let pool = pools[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("channel on an event loop the proxy was not built with")
        }
        return pool.value
    }

    /// How many upstream connections sit idle in the pools, over every loop (tests use it to see
    /// that a connection came back).
    func idleUpstreamCount() async throws -> Int {
        var total = 0
        for bound in pools.values {
            total += try await bound.eventLoop.submit { bound.value.idleCount }.get()
        }
        return total
    }

    func closeIdleUpstreams() -> [EventLoopFuture<Void>] {
        pools.values.map { bound in
            bound.eventLoop.submit { bound.value.closeAll() }
        }
    }
}
