import NIOCore

/// How long an agent connection may take at each step before the proxy gives up on it
/// (`--client-hello-timeout`, `--tls-handshake-timeout`, `--idle-timeout`, `--request-head-timeout`,
/// `--held-body-timeout`).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From CONNECT's 200 to the first byte of the agent's TLS ClientHello.
    public var clientHello: TimeAmount = .seconds(10)
    /// From that first byte to a completed handshake.
    public var tlsHandshake: TimeAmount = .seconds(10)
    /// From the end of a response (or the accept) to the first byte of the next request.
    public var idle: TimeAmount = .seconds(75)
    /// From the first byte of a request to its complete head.
    public var requestHead: TimeAmount = .seconds(20)
    /// From a request head on a DLP route to the end of its body, which is held whole for the scan
    /// (and counted against `--max-held-bytes` meanwhile).
    public var heldBody: TimeAmount = .seconds(60)
    /// An upgraded WebSocket connection with no frame either way for this long is closed (pings count).
    public var webSocketIdle: TimeAmount = .seconds(600)

    public init() {}
}

/// Which deadline an agent connection is under, without timers or sockets: events in, actions out;
/// `ProxyRequestHandler` arms the one timer an action names (docs/ARCHITECTURE.md, "Deadlines").
///
/// A plain connection starts idle. A tunnel starts awaiting the agent's TLS ClientHello, then
/// handshaking, then idle. Idle waits for the first byte of a request (keep-alive idle time); from
/// that byte the whole head must arrive in time (slowloris). While a request is being served no
/// connection deadline runs (the exchange has its own: upstream and scan timeouts, supervise expiry),
/// except while its body is held for DLP: a body that trickles in would pin held bytes.
struct ConnectionDeadlines: Equatable {
    enum Deadline: String, Equatable, Sendable {
        case clientHello, tlsHandshake, idle, requestHead
        /// The rest of a request that was already answered (refused) must arrive in time too.
        case discardedBody
        /// A body held whole for an outbound scan.
        case heldBody
    }

    enum Action: Equatable {
        case none
        case arm(Deadline, TimeAmount)
        case disarm
    }

    private enum Phase: Equatable {
        case awaitingClientHello, handshaking, idle, receivingHead, serving, receivingHeldBody, discardingBody, closed
    }

    private var phase: Phase
    private let timeouts: ConnectionTimeouts
    /// The served request has been read to its end (its response may still be under way).
    private var requestComplete = false
    /// Bytes arrived after that: the next request (pipelined) has begun, so when the response ends
    /// its head is already under the head deadline, not the idle one.
    private var bytesWhileServing = false

    init(tunnel: Bool, timeouts: ConnectionTimeouts) {
        phase = tunnel ? .awaitingClientHello : .idle
        self.timeouts = timeouts
    }

    /// How long `deadline` allows (the rest of a refused request gets the head's time).
    func timeout(of deadline: Deadline) -> TimeAmount {
        switch deadline {
        case .clientHello: timeouts.clientHello
        case .tlsHandshake: timeouts.tlsHandshake
        case .idle: timeouts.idle
        case .requestHead, .discardedBody: timeouts.requestHead
        case .heldBody: timeouts.heldBody
        }
    }

    /// The deadline the connection starts under.
    var initialAction: Action {
        switch phase {
        case .awaitingClientHello: .arm(.clientHello, timeout(of: .clientHello))
        case .idle: .arm(.idle, timeout(of: .idle))
        case .handshaking, .receivingHead, .serving, .receivingHeldBody, .discardingBody, .closed: .none
        }
    }

    /// Bytes arrived from the agent (raw, before TLS and HTTP decoding).
    mutating func bytesReceived() -> Action {
        switch phase {
        case .awaitingClientHello:
            phase = .handshaking
            return .arm(.tlsHandshake, timeout(of: .tlsHandshake))
        case .idle:
            phase = .receivingHead
            return .arm(.requestHead, timeout(of: .requestHead))
        case .serving:
            if requestComplete { bytesWhileServing = true }
            return .none
        case .handshaking, .receivingHead, .receivingHeldBody, .discardingBody, .closed:
            return .none
        }
    }

    mutating func handshakeCompleted() -> Action {
        guard phase == .awaitingClientHello || phase == .handshaking else { return .none }
        phase = .idle
        return .arm(.idle, timeout(of: .idle))
    }

    mutating func requestHeadReceived() -> Action {
        guard phase != .closed else { return .none }
        phase = .serving
        requestComplete = false
        bytesWhileServing = false
        return .disarm
    }

    /// The served request's body is held for DLP: it must end in time.
    mutating func holdingRequestBody() -> Action {
        guard phase == .serving, !requestComplete else { return .none }
        phase = .receivingHeldBody
        return .arm(.heldBody, timeout(of: .heldBody))
    }

    /// The served request's last part was read; what arrives from now on is the next request.
    mutating func requestEnded() -> Action {
        switch phase {
        case .receivingHeldBody:
            phase = .serving
            requestComplete = true
            return .disarm
        case .serving, .discardingBody:
            requestComplete = true
            return .none
        case .awaitingClientHello, .handshaking, .idle, .receivingHead, .closed:
            return .none
        }
    }

    /// The request was answered before its end (a refusal): the rest of it is read and dropped,
    /// within the head timeout, so a body that never ends cannot hold the connection.
    mutating func discardingBody() -> Action {
        guard phase == .serving || phase == .receivingHeldBody, !requestComplete else { return .none }
        phase = .discardingBody
        return .arm(.discardedBody, timeout(of: .discardedBody))
    }

    /// The response has ended and the connection stays open for the next request.
    mutating func exchangeFinished() -> Action {
        guard phase == .serving || phase == .receivingHeldBody || phase == .discardingBody else { return .none }
        if bytesWhileServing {
            bytesWhileServing = false
            phase = .receivingHead
            return .arm(.requestHead, timeout(of: .requestHead))
        }
        phase = .idle
        return .arm(.idle, timeout(of: .idle))
    }

    mutating func connectionClosed() -> Action {
        phase = .closed
        return .disarm
    }

    /// A timer fired: the deadline it enforces, if the connection is still under it (a timer
    /// cancelled too late must not act).
    mutating func expired(_ deadline: Deadline) -> Deadline? {
        let current: Deadline? =
            switch phase {
            case .awaitingClientHello: .clientHello
            case .handshaking: .tlsHandshake
            case .idle: .idle
            case .receivingHead: .requestHead
            case .discardingBody: .discardedBody
            case .receivingHeldBody: .heldBody
            case .serving, .closed: nil
            }
        guard current == deadline else { return nil }
        phase = .closed
        return deadline
    }
}
