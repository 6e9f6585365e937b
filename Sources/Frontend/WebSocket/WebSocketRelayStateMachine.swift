import Detectors
import EgressRoutes
import NIOCore
import NIOWebSocket

/// One upgraded WebSocket connection pair, from the agent's and the upstream's frames to what is
/// relayed, scanned, refused and closed: events in, actions out, no sockets and no clocks
/// (docs/ARCHITECTURE.md, "WebSocket relay"). ``WebSocketRelay`` performs the actions.
///
/// Messages are assembled here rather than by NIO's frame aggregator, which drops the mask of a
/// fragmented message: every frame is judged as it arrived (masked from the agent, unmasked from
/// the upstream, no reserved bits, since no extension was negotiated). On a direction that DLP
/// scans, each whole message is held until its verdict, and whatever arrives behind it on that
/// side waits in order: nothing overtakes a message under scan, and the side is not read meanwhile.
///
/// Control frames carry bytes too (up to 125 each), so none crosses with its payload: the proxy
/// answers each side's pings itself, drops pongs (it sends no pings of its own), and relays a close
/// frame with its status code only.
struct WebSocketRelayStateMachine {
    enum Side: Equatable, Sendable, CustomStringConvertible {
        case agent
        case upstream

        var other: Side { self == .agent ? .upstream : .agent }
        /// Messages from the agent go out, messages from the upstream come in.
        var direction: String { self == .agent ? "outbound" : "inbound" }
        var description: String { self == .agent ? "agent" : "upstream" }
    }

    struct Configuration {
        var context: RequestContext
        var scansOutbound: Bool
        var scansInbound: Bool
        var outboundAction: OutboundAction
        var inboundAction: InboundAction
        /// The severity from which `inboundAction` applies to a message; lower findings are only logged.
        var inboundThreshold: InjectionSeverity = .medium
        /// A message (all of its fragments) may be at most this large.
        var maxMessageBytes: Int
        /// Messages held for a scan, and those waiting behind them, are taken from it first.
        var heldBytes: HeldBytesBudget
        /// Level 2: every relayed message is logged.
        var capturesMessages: Bool
    }

    enum ScanResult: Equatable {
        case clean
        /// The detectors that matched, first match first; `redacted` is the message with every match
        /// replaced, when the route redacts.
        case found(detectors: [String], redacted: ByteBuffer?)
        /// No verdict (a dead or lying worker, a limit, an undecodable message): the relay closes.
        case failed(reason: String)
    }

    enum Event {
        case frame(from: Side, WebSocketFrame)
        case scanned(from: Side, ScanResult)
        /// A side's connection can take more (or no more) writes.
        case writabilityChanged(Side, isWritable: Bool)
        /// A side sent bytes that are not WebSocket frames NIO can decode (`problem`, in words).
        case undecodable(from: Side, code: WebSocketErrorCode, problem: String)
        /// A side's connection closed.
        case closed(Side)
        case idleTimeout(seconds: String)
        /// A side's message has been arriving in fragments for longer than it may (`--held-body-timeout`).
        case assemblyTimedOut(Side, seconds: String)
    }

    enum Action: Equatable {
        /// Write `frame` (unmasked: the performer masks what goes to the upstream) and flush.
        case send(to: Side, WebSocketFrame)
        case scan(from: Side, ByteBuffer)
        case setReading(Side, Bool)
        /// Write a close frame with `code` and `reason`, then close that connection once it is written.
        case close(Side, WebSocketErrorCode, reason: String)
        /// Close a connection once what was written to it has been.
        case closeConnection(Side)
        /// A frame arrived: the idle deadline moves.
        case touch
        case releaseHeld(Int)
        case emit(EgressEvent, minimum: LogLevel)
    }

    /// What one side sent that is not relayed yet.
    private struct Inbox {
        /// The fragments of a message still coming.
        var assembling: (opcode: WebSocketOpcode, data: ByteBuffer)?
        /// Whole messages and control frames, in arrival order, behind the one under scan.
        var waiting = CircularBuffer<WebSocketFrame>()
        /// The message whose verdict is awaited.
        var underScan: WebSocketFrame?
        /// The side sent its close frame: what it sends after that is dropped (RFC 6455 §5.5.1).
        var closed = false
        /// A close frame went to this side (the other side's, relayed, or the proxy's own): no second
        /// one follows.
        var closeSent = false
        var reading = true
        /// Bytes of this side's messages taken from the held-bytes budget.
        var heldBytes = 0

        init() {}

        /// An inbox after the relay ended: nothing held, nothing more taken.
        init(finishing inbox: Inbox) {
            closed = true
            closeSent = inbox.closeSent
            reading = inbox.reading
        }
    }

    let configuration: Configuration
    private var agent = Inbox()
    private var upstream = Inbox()
    private var writable: (agent: Bool, upstream: Bool) = (true, true)
    /// Both connections are closing or closed: nothing more is relayed.
    private(set) var isFinished = false

    /// A side has sent its close frame, or the relay has finished: the pair must be gone soon
    /// (``WebSocketRelay`` closes both after a short deadline whatever the peers do).
    var isClosing: Bool { isFinished || agent.closed || upstream.closed }

    /// A message is arriving in fragments from `side` (it must be whole within a deadline).
    func isAssembling(_ side: Side) -> Bool { self[side].assembling != nil }

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    mutating func handle(_ event: Event) -> [Action] {
        guard !isFinished else {
            if case .closed(let side) = event { return [.closeConnection(side.other)] }
            return []
        }
        var actions: [Action]
        switch event {
        case .frame(let side, let frame): actions = frameReceived(frame, from: side)
        case .scanned(let side, let result): actions = scanned(result, from: side)
        case .writabilityChanged(let side, let isWritable):
            if side == .agent { writable.agent = isWritable } else { writable.upstream = isWritable }
            actions = []
        case .undecodable(let side, let code, let problem):
            actions = breakOff(side, code: code, problem: problem)
        case .closed(let side):
            isFinished = true
            actions = releaseAll() + [.closeConnection(side.other)]
        case .idleTimeout(let seconds):
            let reason = "egress: WebSocket idle for \(seconds)"
            actions = closeBoth(agent: (.goingAway, reason), upstream: (.goingAway, reason))
                + [.emit(.connectionClosed(reason: reason), minimum: .full)]
        case .assemblyTimedOut(let side, let seconds):
            guard self[side].assembling != nil else { return readingChanges() }
            actions = breakOff(side, code: .policyViolation, problem: "a message it did not finish within \(seconds)")
        }
        return actions + readingChanges()
    }

    // MARK: Frames

    private mutating func frameReceived(_ frame: WebSocketFrame, from side: Side) -> [Action] {
        if let problem = Self.problem(with: frame, from: side) {
            return breakOff(side, code: .protocolError, problem: problem)
        }
        var inbox = self[side]
        guard !inbox.closed else { return [] }
        var actions: [Action] = [.touch]
        let data = frame.unmaskedData
        let complete: WebSocketFrame
        switch frame.opcode {
        case .text, .binary, .continuation:
            if frame.opcode == .continuation {
                guard inbox.assembling != nil else {
                    return breakOff(side, code: .protocolError, problem: "a continuation frame outside a message")
                }
            } else if inbox.assembling != nil {
                return breakOff(side, code: .protocolError, problem: "a new message before the last one ended")
            }
            var (opcode, message) = inbox.assembling ?? (frame.opcode, ByteBuffer())
            inbox.assembling = nil
            guard message.readableBytes + data.readableBytes <= configuration.maxMessageBytes else {
                self[side] = inbox
                return breakOff(
                    side,
                    code: .messageTooLarge,
                    problem: "a message larger than \(configuration.maxMessageBytes) bytes"
                )
            }
            guard configuration.heldBytes.reserve(data.readableBytes) else {
                self[side] = inbox
                return busy(side)
            }
            inbox.heldBytes += data.readableBytes
            var appended = data
            message.writeBuffer(&appended)
            guard frame.fin else {
                inbox.assembling = (opcode, message)
                self[side] = inbox
                return actions
            }
            opcode = opcode == .continuation ? .binary : opcode
            complete = WebSocketFrame(fin: true, opcode: opcode, data: message)
        case .ping:
            // Answered here, on this side's own hop (control frames: NIO's decoder has checked they
            // are whole and at most 125 bytes).
            self[side] = inbox
            return actions + [.send(to: side, WebSocketFrame(fin: true, opcode: .pong, data: data))]
        case .pong:
            // Only ever an answer to a ping the other side's hop sent: it goes no further.
            return actions
        default:
            // A close frame: what this side sends after it is dropped from now on, and only its
            // status code is relayed (the reason is text nobody scanned), when it is one a peer may
            // send (RFC 6455 §7.4); otherwise the close goes on without one.
            inbox.closed = true
            var code = ByteBuffer()
            if let value = data.getInteger(at: data.readerIndex, as: UInt16.self), Self.isSendable(closeCode: value) {
                code.writeInteger(value)
            }
            complete = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        }
        if inbox.underScan != nil || !inbox.waiting.isEmpty {
            inbox.waiting.append(complete)
            self[side] = inbox
            return actions
        }
        self[side] = inbox
        actions += dispatch(complete, from: side)
        return actions
    }

    /// 1000–1003, 1007–1014 and the registered and private ranges 3000–4999; never 1005, 1006 or
    /// 1015, which only describe a close that had no frame.
    static func isSendable(closeCode: UInt16) -> Bool {
        switch closeCode {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// A frame that breaks RFC 6455 as this relay negotiated it, in words.
    private static func problem(with frame: WebSocketFrame, from side: Side) -> String? {
        if !frame.reservedBits.isEmpty { return "a frame with reserved bits set (no extension was negotiated)" }
        switch frame.opcode {
        case .text, .binary, .continuation, .connectionClose, .ping, .pong: break
        default: return "a frame with a reserved opcode"
        }
        switch side {
        case .agent where frame.maskKey == nil: return "an unmasked frame from the client"
        case .upstream where frame.maskKey != nil: return "a masked frame from the server"
        default: return nil
        }
    }

    /// A whole message or a control frame, next in line on its side: scanned first, or relayed.
    private mutating func dispatch(_ frame: WebSocketFrame, from side: Side) -> [Action] {
        switch frame.opcode {
        case .text, .binary:
            if scans(side) {
                self[side].underScan = frame
                return [.scan(from: side, frame.data)]
            }
            return relay(frame, from: side)
        case .connectionClose:
            self[side.other].closeSent = true
            var actions: [Action] = [.send(to: side.other, frame)]
            // Until the relay finishes, only the other side's close relayed reaches this side.
            if self[side].closeSent {
                // Both sides have said goodbye: the closing handshake is complete.
                isFinished = true
                actions += releaseAll() + [.closeConnection(.agent), .closeConnection(.upstream)]
            }
            return actions
        default:
            return [.send(to: side.other, frame)]
        }
    }

    private func scans(_ side: Side) -> Bool {
        side == .agent ? configuration.scansOutbound : configuration.scansInbound
    }

    /// Sends a message on, its held bytes back, logged at level 2.
    private mutating func relay(_ message: WebSocketFrame, from side: Side, held: Int? = nil) -> [Action] {
        let count = min(held ?? message.data.readableBytes, self[side].heldBytes)
        self[side].heldBytes -= count
        var actions: [Action] = [.send(to: side.other, message)]
        if count > 0 { actions.append(.releaseHeld(count)) }
        if configuration.capturesMessages {
            var logged = LoggedBody()
            logged.append(message.data.readableBytesView)
            actions.append(
                .emit(
                    .webSocketMessage(
                        context: configuration.context,
                        direction: side.direction,
                        opcode: message.opcode == .text ? "text" : "binary",
                        size: message.data.readableBytes,
                        body: logged
                    ),
                    minimum: .full
                )
            )
        }
        return actions
    }

    // MARK: Verdicts

    private mutating func scanned(_ result: ScanResult, from side: Side) -> [Action] {
        guard let message = self[side].underScan else { return [] }
        self[side].underScan = nil
        let context = configuration.context
        var actions: [Action]
        switch result {
        case .clean:
            actions = relay(message, from: side)
        case .failed(let reason):
            return terminate(agentCode: .unexpectedServerError, reason: reason, event: .block(reason: reason, context: context))
        case .found(let detectors, let redacted):
            if side == .agent {
                let reason = Self.outboundReason(detectors.first ?? "")
                switch configuration.outboundAction {
                case .block, .supervise:
                    // No operator can answer a message in time: supervise refuses it like block.
                    return terminate(agentCode: .policyViolation, reason: reason, event: .block(reason: reason, context: context))
                case .redact:
                    var replaced = message
                    if let redacted { replaced.data = redacted }
                    actions = relay(replaced, from: side, held: message.data.readableBytes)
                    actions.append(.emit(.redact(reason: reason, context: context, detectors: detectors), minimum: .blocks))
                case .warn:
                    actions = relay(message, from: side)
                    actions.append(.emit(.warn(reason: reason, context: context), minimum: .blocks))
                }
            } else {
                let (reachesThreshold, reason) = DLPReason.inbound(detectors, threshold: configuration.inboundThreshold)
                switch reachesThreshold ? configuration.inboundAction : .warn {
                case .block:
                    return terminate(
                        agentCode: .policyViolation,
                        reason: reason,
                        event: .block(reason: reason, context: context, responseStatus: 101)
                    )
                case .warn:
                    actions = relay(message, from: side)
                    actions.append(.emit(.warn(reason: reason, context: context, responseStatus: 101), minimum: .blocks))
                }
            }
        }
        // What waited behind the message goes on, up to the next message that needs a scan.
        while self[side].underScan == nil, !isFinished, let next = self[side].waiting.popFirst() {
            actions += dispatch(next, from: side)
        }
        return actions
    }

    static func outboundReason(_ detectorID: String) -> String {
        "egress DLP: \(DLPReason.label(detectorID)) found in WebSocket message"
    }

    // MARK: Ending

    /// A side broke the protocol or a bound: it is told why, the other side is told the proxy is
    /// going away, and the operator gets an event.
    private mutating func breakOff(_ side: Side, code: WebSocketErrorCode, problem: String) -> [Action] {
        let reason = "egress: WebSocket \(side == .agent ? "client" : "server") sent \(problem)"
        return end(telling: side, code, reason, event: .block(reason: reason, context: configuration.context))
    }

    private mutating func busy(_ side: Side) -> [Action] {
        let busy = HeldBytesBudget.busyReason
        return end(telling: side, .unknown(1013), busy, event: .block(reason: busy, context: configuration.context))
    }

    /// Ends the relay on a DLP verdict: the agent hears why.
    private mutating func terminate(agentCode: WebSocketErrorCode, reason: String, event: EgressEvent) -> [Action] {
        end(telling: .agent, agentCode, reason, event: event)
    }

    /// Ends the relay: `side` hears why, the other side that the proxy is going away, and the
    /// operator gets `event`.
    private mutating func end(telling side: Side, _ code: WebSocketErrorCode, _ reason: String, event: EgressEvent) -> [Action] {
        let told = (code, reason)
        let goingAway: (WebSocketErrorCode, String) = (.goingAway, "egress: closing")
        let closes = side == .agent ? closeBoth(agent: told, upstream: goingAway) : closeBoth(agent: goingAway, upstream: told)
        return closes + [.emit(event, minimum: .blocks)]
    }

    /// Ends the relay: each side gets a close frame with its code and reason, unless it already had
    /// one, and then its connection closes.
    private mutating func closeBoth(
        agent agentClose: (WebSocketErrorCode, String),
        upstream upstreamClose: (WebSocketErrorCode, String)
    ) -> [Action] {
        isFinished = true
        var actions = releaseAll()
        for (side, (code, reason)) in [(Side.agent, agentClose), (.upstream, upstreamClose)] {
            if self[side].closeSent {
                actions.append(.closeConnection(side))
            } else {
                self[side].closeSent = true
                actions.append(.close(side, code, reason: reason))
            }
        }
        return actions
    }

    private mutating func releaseAll() -> [Action] {
        let count = agent.heldBytes + upstream.heldBytes
        agent = Inbox(finishing: agent)
        upstream = Inbox(finishing: upstream)
        return count > 0 ? [.releaseHeld(count)] : []
    }

    // MARK: Reading

    /// A side is read while nothing of it waits and both sides take what they are sent: the other
    /// side its messages, itself the pongs that answer its pings.
    private mutating func readingChanges() -> [Action] {
        var actions: [Action] = []
        for side in [Side.agent, .upstream] {
            let inbox = self[side]
            let wanted = !isFinished && inbox.underScan == nil && inbox.waiting.isEmpty && writable.agent && writable.upstream
            if wanted != inbox.reading {
                self[side].reading = wanted
                actions.append(.setReading(side, wanted))
            }
        }
        return actions
    }

    private subscript(side: Side) -> Inbox {
        get { side == .agent ? agent : upstream }
        set {
            if side == .agent { agent = newValue } else { upstream = newValue }
        }
    }
}
