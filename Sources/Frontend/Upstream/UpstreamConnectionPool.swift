import NIOCore
import NIOHTTP1
import NIOHTTP2
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
    /// Offers `h2` and `http/1.1` by ALPN.
    var tlsContext: NIOSSLContext
    /// Offers only `http/1.1`: for a WebSocket handshake, which HTTP/2 would not carry.
    var http1TLSContext: NIOSSLContext
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

/// What one exchange sends its request on: an upstream channel with its HTTP/1.1 client pipeline,
/// or one stream of an ``UpstreamHTTP2Session`` (the same request and response parts, through
/// NIO's HTTP/2-to-HTTP/1 codec).
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let target: UpstreamTarget
    /// A stream is used for one exchange and closed, never pooled.
    let isHTTP2Stream: Bool
    /// A request head was written on it (a stream that carried none has no stream ID yet, and
    /// would wait inside NIO for ever unless closed).
    var sentRequest = false
    /// Whether the connection came from the idle pool, or the stream from a session that served
    /// others (the server may have closed it meanwhile).
    var wasReused = false
    /// Closes the connection when it has been idle in the pool too long; made when first pooled,
    /// and only moved after that (each request would otherwise cost a timer set and cancelled).
    fileprivate var idleTimer: CoalescingTimer<Void>?

    init(channel: any Channel, handler: UpstreamHandler, target: UpstreamTarget, isHTTP2Stream: Bool = false) {
        self.channel = channel
        self.handler = handler
        self.target = target
        self.isHTTP2Stream = isHTTP2Stream
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}

/// Keep-alive upstream connections of one event loop, by target: idle HTTP/1.1 connections, and
/// at most one shared HTTP/2 session per target that every exchange opens a stream on. Client and
/// upstream channels share the loop, so relaying needs no hops and no locks. Used only on its
/// event loop.
final class UpstreamConnectionPool {
    private let eventLoop: any EventLoop
    private let settings: UpstreamSettings
    private var idle: [UpstreamTarget: [UpstreamConnection]] = [:]
    private var sessions: [UpstreamTarget: UpstreamHTTP2Session] = [:]
    /// Exchanges waiting for a connection under way to a target that may answer with HTTP/2: they
    /// get a stream on it if it does, rather than each opening a connection of its own.
    private var waitingForConnect: [UpstreamTarget: [Completion]] = [:]
    /// Targets whose last connection spoke HTTP/1.1: exchanges to them never wait for another's
    /// connection. Bounded; forgetting only costs a wait.
    private var speaksHTTP1: Set<UpstreamTarget> = []

    init(eventLoop: any EventLoop, settings: UpstreamSettings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// The most exchanges that wait for one connection under way to a target (an HTTP/2 server's
    /// usual stream limit).
    static let maxWaitingForConnect = 100

    /// The number of idle pooled connections (for tests).
    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    typealias Completion = (Result<UpstreamConnection, UpstreamFailure>) -> Void

    /// Hands over a stream on the target's HTTP/2 session or an idle connection to `target`, or
    /// opens one (always a new one with `fresh`; always HTTP/1.1 with `http1Only`). `completion`
    /// runs on the loop.
    func acquire(_ target: UpstreamTarget, fresh: Bool = false, http1Only: Bool = false, completion: @escaping Completion) {
        eventLoop.assertInEventLoop()
        if !fresh, !http1Only, let session = sessions[target] {
            if session.acceptsStreams {
                session.openStream(completion: completion)
                return
            }
            sessions[target] = nil
        }
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
        let mayBeHTTP2 = target.isTLS && !http1Only
        var leadsWaiters = !fresh && mayBeHTTP2 && !speaksHTTP1.contains(target)
        if leadsWaiters, let waiting = waitingForConnect[target] {
            if waiting.count < Self.maxWaitingForConnect {
                waitingForConnect[target]!.append(completion)
                return
            }
            // Bounded: past it an exchange connects on its own, as to an HTTP/1.1 server.
            leadsWaiters = false
        } else if leadsWaiters {
            waitingForConnect[target] = []
        }
        connect(target, http1Only: http1Only) { result in
            self.connected(target, result, first: completion, mayBeHTTP2: mayBeHTTP2, leadsWaiters: leadsWaiters)
        }
    }

    /// A new connection is up (or failed): it serves `first`, and those that waited for it get
    /// streams on it if it speaks HTTP/2, or go their own way if not.
    private func connected(
        _ target: UpstreamTarget,
        _ result: Result<UpstreamConnection, UpstreamFailure>,
        first: @escaping Completion,
        mayBeHTTP2: Bool,
        leadsWaiters: Bool
    ) {
        let waiting = leadsWaiters ? (waitingForConnect.removeValue(forKey: target) ?? []) : []
        guard case .success(let connection) = result else {
            first(result)
            for waiter in waiting { waiter(result) }
            return
        }
        guard let multiplexer = try? connection.channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer(),
            let connectionHandler = try? connection.channel.pipeline.syncOperations.handler(type: UpstreamHTTP2ConnectionHandler.self)
        else {
            if mayBeHTTP2 {
                if speaksHTTP1.count >= 4_096 { speaksHTTP1.removeAll() }
                speaksHTTP1.insert(target)
            }
            first(.success(connection))
            for waiter in waiting { acquire(target, completion: waiter) }
            return
        }
        speaksHTTP1.remove(target)
        let session = UpstreamHTTP2Session(
            channel: connection.channel,
            target: target,
            multiplexer: multiplexer,
            connectionHandler: connectionHandler,
            idleTimeout: settings.idleTimeout
        )
        // A fresh connection made while a session is in use serves its own streams and then idles out.
        if sessions[target]?.acceptsStreams != true {
            sessions[target] = session
            connection.handler.onClose = { [weak self, weak session] in
                guard let self, let session, self.sessions[target] === session else { return }
                self.sessions[target] = nil
            }
        }
        session.openStream(completion: first)
        for waiter in waiting { session.openStream(completion: waiter) }
    }

    /// Returns a connection after a complete exchange, or closes it when it cannot be reused. A
    /// stream is done either way: after both ends it closes itself (a reset then would be a
    /// frame on a closed stream); before, or when it never carried a request, it is closed.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.assertInEventLoop()
        connection.handler.receiver = nil
        if connection.isHTTP2Stream {
            if !reusable || !connection.sentRequest { connection.channel.close(promise: nil) }
            return
        }
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

    /// Closes every idle connection and every HTTP/2 session (shutdown).
    func closeAll() {
        for connection in idle.values.joined() {
            connection.idleTimer?.stop()
            connection.channel.close(promise: nil)
        }
        idle.removeAll()
        for session in sessions.values { session.close() }
        sessions.removeAll()
    }

    private func forget(_ connection: UpstreamConnection) {
        connection.idleTimer?.stop()
        idle[connection.target]?.removeAll { $0 === connection }
    }

    private func connect(_ target: UpstreamTarget, http1Only: Bool, completion: @escaping Completion) {
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
            self.open(target, at: address, http1Only: http1Only, completion: completion)
        }
    }

    private func open(_ target: UpstreamTarget, at address: SocketAddress, http1Only: Bool, completion: @escaping Completion) {
        let tlsContext = http1Only ? settings.http1TLSContext : settings.tlsContext
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
                        try sync.addHandler(UpstreamProtocolSwitch())
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
            // connectTimeout covers TCP only: a server that accepts and never finishes its TLS
            // handshake would hold this exchange, and those waiting for the connection, for ever.
            let handshakeDeadline = channel.eventLoop.assumeIsolated().scheduleTask(in: self.settings.connectTimeout) {
                channel.close(promise: nil)
            }
            handler.readyFuture.assumeIsolated().whenComplete { ready in
                handshakeDeadline.cancel()
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
