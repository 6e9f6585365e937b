import Detectors
import IPC
import NIOCore
import NIOWebSocket

/// Performs what ``WebSocketRelayStateMachine`` decides for one upgraded connection pair: writes
/// frames (masked towards the upstream, as a client must), scans messages in the scanner pool,
/// pauses and resumes reading, closes, arms the idle deadline, logs. It decides nothing itself.
///
/// Both channels share one event loop (the upstream pool is per loop), and so does everything here.
final class WebSocketRelay {
    typealias Machine = WebSocketRelayStateMachine
    typealias Side = Machine.Side

    private var machine: Machine
    private let services: ProxyServices
    private let dlp: ExchangeDLP
    private let loop: any EventLoop
    private let agentChannel: any Channel
    private let upstreamChannel: any Channel
    private var idleTimer: CoalescingTimer<Void>?
    private let idleTimeout: TimeAmount
    /// A message arriving in fragments must be whole within `--held-body-timeout` from its first
    /// fragment: its bytes are held. One deadline per side.
    private var assemblyTimers: [CoalescingTimer<Void>] = []
    private var assembling: [Bool] = [false, false]
    private let assemblyTimeout: TimeAmount
    /// Once closing, both connections go after this long whatever the peers do: a peer that stops
    /// reading would otherwise keep a close frame, and the pair, waiting for ever.
    private var closeDeadline: Scheduled<Void>?
    static let closeGrace = TimeAmount.seconds(5)
    /// The largest frame NIO's decoder buffers before it is whole (messages may be larger, in
    /// fragments, up to `--max-scan-bytes`): it holds those bytes outside the held-bytes budget.
    static let maxFrameBytes = 1 << 20
    /// The last write to each side: a close waits for it.
    private var lastWrite: (agent: EventLoopFuture<Void>?, upstream: EventLoopFuture<Void>?)
    /// Events raised while actions are performed (a failed write closes a channel at once) wait
    /// and are handled right after, in order.
    private let events = EventDrain<Machine.Event>()

    init(
        agent: any Channel,
        upstream: any Channel,
        upgrade: ExchangeStateMachine<UpstreamConnection>.WebSocketUpgrade,
        services: ProxyServices
    ) {
        agentChannel = agent
        upstreamChannel = upstream
        loop = agent.eventLoop
        self.services = services
        dlp = upgrade.dlp
        idleTimeout = services.connectionTimeouts.webSocketIdle
        assemblyTimeout = services.connectionTimeouts.heldBody
        let scansInbound = !upgrade.dlp.inboundDetectors.isEmpty && services.scanner != nil
        machine = Machine(
            configuration: Machine.Configuration(
                context: upgrade.context,
                scansOutbound: !upgrade.dlp.outboundDetectors.isEmpty,
                scansInbound: scansInbound,
                outboundAction: upgrade.dlp.outboundAction,
                inboundAction: upgrade.dlp.inboundAction,
                inboundThreshold: upgrade.dlp.inboundThreshold,
                maxMessageBytes: services.maxScanBytes,
                heldBytes: services.heldBytes,
                capturesMessages: upgrade.capturesMessages
            )
        )
        let seconds = ExchangeStateMachine<UpstreamConnection>.seconds(idleTimeout)
        idleTimer = CoalescingTimer(loop: loop) { [weak self] in
            self?.handle(.idleTimeout(seconds: seconds))
        }
        idleTimer?.arm((), in: idleTimeout)
        let assemblySeconds = ExchangeStateMachine<UpstreamConnection>.seconds(assemblyTimeout)
        assemblyTimers = Self.sides.map { side in
            CoalescingTimer(loop: loop) { [weak self] in self?.handle(.assemblyTimedOut(side, seconds: assemblySeconds)) }
        }
    }

    /// The handlers that end each upgraded pipeline, after NIO's frame codec.
    func handlers(for side: Side) -> [any ChannelHandler] {
        let maxFrame = min(services.maxScanBytes, Self.maxFrameBytes)
        return [
            WebSocketFrameEncoder(),
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrame)),
            WebSocketLegHandler(side: side, relay: self, maxFrameBytes: maxFrame),
        ]
    }

    /// Both pipelines are swapped: read both sides (the HTTP handlers held back the agent's reads).
    func start() {
        for channel in [agentChannel, upstreamChannel] {
            channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            channel.read()
        }
    }

    func handle(_ event: Machine.Event) {
        events.submit(event) { next in
            for action in machine.handle(next) { perform(action) }
            updateDeadlines()
            return true
        }
    }

    private func updateDeadlines() {
        if machine.isFinished {
            idleTimer?.stop()
            idleTimer = nil
            for timer in assemblyTimers { timer.stop() }
            assemblyTimers = []
        } else {
            updateAssemblyDeadline()
        }
        if machine.isClosing, closeDeadline == nil {
            // Weak: a pair that closed cleanly is not kept for the grace period.
            closeDeadline = loop.scheduleTask(in: Self.closeGrace) { [weak agentChannel, weak upstreamChannel] in
                agentChannel?.close(promise: nil)
                upstreamChannel?.close(promise: nil)
            }
        }
    }

    private func channel(_ side: Side) -> any Channel { side == .agent ? agentChannel : upstreamChannel }

    private func perform(_ action: Machine.Action) {
        switch action {
        case .send(let side, let frame):
            write(frame, to: side)
        case .scan(let side, let message):
            scan(message, from: side)
        case .setReading(let side, let on):
            channel(side).setOption(ChannelOptions.autoRead, value: on).whenFailure { _ in }
        case .close(let side, let code, let reason):
            var data = channel(side).allocator.buffer(capacity: 2 + 123)
            data.write(webSocketErrorCode: code)
            data.writeString(Self.closeReason(reason))
            write(WebSocketFrame(fin: true, opcode: .connectionClose, data: data), to: side)
            closeAfterWrites(side)
        case .closeConnection(let side):
            closeAfterWrites(side)
        case .touch:
            idleTimer?.arm((), in: idleTimeout)
        case .releaseHeld(let count):
            services.heldBytes.giveBack(count)
        case .emit(let event, let minimum):
            services.events.emit(event, minimum: minimum)
        }
    }

    private static let sides: [Side] = [.agent, .upstream]

    /// A side's first fragment starts its deadline; the message's end stops it.
    private func updateAssemblyDeadline() {
        for (index, side) in Self.sides.enumerated() {
            let now = machine.isAssembling(side)
            guard now != assembling[index] else { continue }
            assembling[index] = now
            if now { assemblyTimers[index].arm((), in: assemblyTimeout) } else { assemblyTimers[index].disarm() }
        }
    }

    private func write(_ frame: WebSocketFrame, to side: Side) {
        var frame = frame
        // RFC 6455 §5.3: a client masks every frame, with a fresh key each time.
        if side == .upstream { frame.maskKey = .random() }
        let written = channel(side).writeAndFlush(frame)
        if side == .agent { lastWrite.agent = written } else { lastWrite.upstream = written }
    }

    private func closeAfterWrites(_ side: Side) {
        let channel = channel(side)
        guard let last = side == .agent ? lastWrite.agent : lastWrite.upstream else {
            channel.close(promise: nil)
            return
        }
        last.whenComplete { _ in channel.close(promise: nil) }
    }

    /// A close frame's reason is at most 123 bytes (RFC 6455 §5.5): cut at a character.
    static func closeReason(_ reason: String) -> String {
        var cut = ""
        for character in reason {
            guard cut.utf8.count + character.utf8.count <= 123 else { break }
            cut.append(character)
        }
        return cut
    }

    // MARK: DLP

    /// A message is scanned like a body: raw, and decoded (JSON unescaped, base64 and percent runs
    /// undone); findings come back mapped to the raw bytes, which redaction replaces.
    private func scan(_ message: ByteBuffer, from side: Side) {
        let direction: ScanDirection = side == .agent ? .outbound : .inbound
        let detectors = side == .agent ? dlp.outboundDetectors : dlp.inboundDetectors
        guard let scanner = services.scanner else {
            handle(.scanned(from: side, .failed(reason: ScanFailure.unavailable.reason)))
            return
        }
        let raw = Array(message.readableBytesView)
        let views: DecodedViews
        do {
            views = try DecodedViews(raw: [raw], inbound: direction == .inbound)
        } catch {
            handle(.scanned(from: side, .failed(reason: error.reason)))
            return
        }
        // Inbound, the most decoded forms; outbound every view, whose findings map back for redaction.
        let job = ScanJob(
            direction: direction,
            detectorIDs: detectors,
            redact: false,
            segments: direction == .inbound ? views.inboundSegments : views.segments
        )
        let hold = HeldBytesReservation(budget: services.heldBytes)
        guard hold.grow(by: job.byteCount) else {
            handle(.scanned(from: side, .failed(reason: HeldBytesBudget.busyReason)))
            return
        }
        let redacts = side == .agent && dlp.outboundAction == .redact
        let metrics = services.metrics
        let action = side == .agent ? dlp.outboundAction.rawValue : dlp.inboundAction.rawValue
        scanner.scan(job).hop(to: loop).assumeIsolated().whenComplete { result in
            hold.release()
            switch result {
            case .failure(let error):
                self.handle(.scanned(from: side, .failed(reason: (error as? ScanFailure ?? .workerError).reason)))
            case .success(let outcome):
                // Inbound findings only name detectors (nothing is redacted), and their segments
                // are the leaves, not the views' numbering.
                let findings = direction == .inbound ? outcome.findings : views.rawFindings(outcome.findings)
                guard !findings.isEmpty else {
                    self.handle(.scanned(from: side, .clean))
                    return
                }
                metrics.dlpAction(direction: direction == .outbound ? "outbound" : "inbound", action: action)
                var ids: [String] = []
                for finding in findings.sorted(by: { $0.start < $1.start }) where !ids.contains(finding.detectorID) {
                    ids.append(finding.detectorID)
                }
                var redacted: ByteBuffer?
                if redacts {
                    let replaced = Redactor.redact(
                        raw,
                        findings: findings.map { Finding(detectorID: $0.detectorID, start: Int($0.start), end: Int($0.end)) }
                    )
                    redacted = self.agentChannel.allocator.buffer(bytes: replaced)
                }
                self.handle(.scanned(from: side, .found(detectors: ids, redacted: redacted)))
            }
        }
    }
}

@available(*, unavailable)
extension WebSocketRelay: Sendable {}
