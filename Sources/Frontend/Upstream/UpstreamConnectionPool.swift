import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How upstream connections are made; shared by every event loop's pool.
struct UpstreamSettings: Sendable {
    var tlsContext: NIOSSLContext
    var socketTuning: SocketTuning
    /// The proxy's listeners: never an upstream.
    var ownListeners: OwnListeners
    var connectTo: [ConnectToOverride]
    var allowPrivateUpstreams: Bool
    var connectTimeout: TimeAmount = .seconds(10)
    /// How long an upstream may take to start its response once the request is sent. Streaming
    /// bodies may then take as long as they like.
    var responseTimeout: TimeAmount = .seconds(600)
    /// Below common server keep-alive timeouts (nginx 75 s), so a pooled connection is rarely
    /// closed by the server just as it is reused.
    var idleTimeout: TimeAmount = .seconds(30)
    var maxIdlePerTarget = 16
    var resolverPool: NIOThreadPool
}

/// An upstream channel with its HTTP/1.1 client pipeline.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let target: UpstreamTarget
    /// Whether the connection came from the idle pool (the server may have closed it meanwhile).
    fileprivate(set) var wasReused = false
    /// Closes the connection when it has been idle in the pool too long; made when first pooled,
    /// and only moved after that (each request would otherwise cost a timer set and cancelled).
    fileprivate var idleTimer: CoalescingTimer<Void>?

    init(channel: any Channel, handler: UpstreamHandler, target: UpstreamTarget) {
        self.channel = channel
        self.handler = handler
        self.target = target
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}

/// Keep-alive upstream connections of one event loop, by target. Client and upstream channels
/// share the loop, so relaying needs no hops and no locks. Used only on its event loop.
final class UpstreamConnectionPool {
    private let eventLoop: any EventLoop
    private let settings: UpstreamSettings
    private var idle: [UpstreamTarget: [UpstreamConnection]] = [:]

    init(eventLoop: any EventLoop, settings: UpstreamSettings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// The number of idle pooled connections (for tests).
    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    typealias Completion = (Result<UpstreamConnection, UpstreamFailure>) -> Void

    /// Hands over an idle connection to `target`, or opens one (always a new one with `fresh`).
    /// `completion` runs on the loop.
    func acquire(_ target: UpstreamTarget, fresh: Bool = false, completion: @escaping Completion) {
        eventLoop.assertInEventLoop()
        while !fresh, let connection = idle[target]?.popLast() {
            connection.idleTimer?.disarm()
            if connection.channel.isActive {
                connection.handler.onClose = nil
                connection.wasReused = true
                completion(.success(connection))
                return
            }
            connection.idleTimer?.stop()
        }
        connect(target, completion: completion)
    }

    /// Returns a connection after a complete exchange, or closes it when it cannot be reused.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.assertInEventLoop()
        connection.handler.receiver = nil
        guard reusable, connection.channel.isActive,
            (idle[connection.target]?.count ?? 0) < settings.maxIdlePerTarget
        else {
            // Not pooled again: its idle timer (and the channel it holds) goes now.
            connection.idleTimer?.stop()
            connection.channel.close(promise: nil)
            return
        }
        // An exchange may have paused reading for a slow agent; an idle connection must see a close.
        connection.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        // Offered to another exchange only from the next tick: bytes left in the read that ended the
        // response (an upstream appending an answer nobody asked for) meet no receiver and close the
        // connection first (UpstreamHandler), instead of answering the next request before it is sent.
        eventLoop.assumeIsolated().execute {
            guard connection.channel.isActive, (self.idle[connection.target]?.count ?? 0) < self.settings.maxIdlePerTarget
            else {
                connection.idleTimer?.stop()
                connection.channel.close(promise: nil)
                return
            }
            self.pool(connection)
        }
    }

    private func pool(_ connection: UpstreamConnection) {
        idle[connection.target, default: []].append(connection)
        connection.handler.onClose = { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.forget(connection)
        }
        if connection.idleTimer == nil {
            let channel = connection.channel
            connection.idleTimer = CoalescingTimer(loop: eventLoop) { channel.close(promise: nil) }
        }
        connection.idleTimer?.arm((), in: settings.idleTimeout)
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        for connection in idle.values.joined() {
            connection.idleTimer?.stop()
            connection.channel.close(promise: nil)
        }
        idle.removeAll()
    }

    private func forget(_ connection: UpstreamConnection) {
        connection.idleTimer?.stop()
        idle[connection.target]?.removeAll { $0 === connection }
    }

    private func connect(_ target: UpstreamTarget, completion: @escaping Completion) {
        let override = settings.connectTo.first { $0.host == target.host && $0.port == target.port }
        let dialHost = override?.address ?? target.host
        let dialPort = override?.addressPort ?? target.port
        let allowPrivate = settings.allowPrivateUpstreams
        let ownListeners = settings.ownListeners
        settings.resolverPool.runIfActive(eventLoop: eventLoop) {
            let addresses = try HostResolver.resolve(host: dialHost, port: dialPort)
            let interfaces = OwnListeners.readInterfaceAddresses()
            return (addresses, addresses.contains { ownListeners.contains($0, interfaces: interfaces) })
        }.assumeIsolated().whenComplete { result in
            guard case .success(let (addresses, isOwn)) = result else {
                completion(.failure(.unresolvable(host: dialHost)))
                return
            }
            // Before the SSRF guard, and whatever it allows: any own address refuses the name.
            if isOwn {
                completion(.failure(.ownAddress(target: target.description)))
                return
            }
            let chosen = allowPrivate ? addresses.first : addresses.first { !AddressGuard.isForbidden($0) }
            guard let address = chosen else {
                let range = AddressGuard.deniedRange(addresses[0])
                completion(
                    .failure(
                        .forbiddenAddress(
                            host: target.description,
                            address: addresses[0].ipAddress ?? dialHost,
                            range: range.map { "\($0.name), \($0.cidr)" } ?? "not allowed"
                        )
                    )
                )
                return
            }
            self.open(target, at: address, completion: completion)
        }
    }

    private func open(_ target: UpstreamTarget, at address: SocketAddress, completion: @escaping Completion) {
        let tlsContext = settings.tlsContext
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelInitializer { [socketTuning = settings.socketTuning] channel in
                channel.eventLoop.makeCompletedFuture {
                    socketTuning.apply(to: channel)
                    let sync = channel.pipeline.syncOperations
                    if target.isTLS {
                        // SNI and hostname verification are for the name the agent asked for, even
                        // when --connect-to dials another address.
                        let isIPLiteral = IPAddressBytes(target.host) != nil
                        try sync.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: isIPLiteral ? nil : target.host)
                        )
                    }
                    // Framing is decided by UpstreamRequestBuilder, never by the method (NIO would drop
                    // a TRACE body's framing but still write the body).
                    var encoder = HTTPRequestEncoder.Configuration()
                    encoder.automaticallySetFramingHeaders = false
                    // Bytes behind a 101 are the upgraded protocol's: kept for the frame decoder
                    // when the HTTP decoder is removed (ProxyRequestHandler+WebSocket). Only an
                    // explicit removal forwards them; a closing pipeline never does.
                    try sync.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, encoderConfiguration: encoder)
                    let ready = channel.eventLoop.makePromise(of: Void.self)
                    try sync.addHandler(UpstreamHandler(ready: ready, waitsForTLS: target.isTLS))
                }
            }
        bootstrap.connect(to: address).assumeIsolated().whenComplete { result in
            let channel: any Channel
            let handler: UpstreamHandler
            do {
                channel = try result.get()
                handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
            } catch {
                completion(.failure(Self.connectFailure(error, target: target)))
                return
            }
            handler.readyFuture.assumeIsolated().whenComplete { ready in
                switch ready {
                case .success:
                    completion(.success(UpstreamConnection(channel: channel, handler: handler, target: target)))
                case .failure(let error):
                    channel.close(promise: nil)
                    completion(.failure(Self.handshakeFailure(error, target: target)))
                }
            }
        }
    }

    private static func connectFailure(_ error: any Error, target: UpstreamTarget) -> UpstreamFailure {
        if case ChannelError.connectTimeout = error { return .connectTimeout(target: target.description) }
        if let ioError = error as? IOError {
            return .connectFailed(target: target.description, detail: String(cString: strerror(ioError.errnoCode)))
        }
        return .connectFailed(target: target.description, detail: "\(error)")
    }

    private static func handshakeFailure(_ error: any Error, target: UpstreamTarget) -> UpstreamFailure {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return .tlsFailed(host: target.host, detail: "certificate not trusted")
        }
        if (error as? NIOSSLExtraError) == .failedToValidateHostname {
            return .tlsFailed(host: target.host, detail: "certificate does not match the host name")
        }
        if error is NIOSSLError || error is BoringSSLError {
            return .tlsFailed(host: target.host, detail: String(text.prefix(160)))
        }
        return .closedEarly(target: target.description)
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
