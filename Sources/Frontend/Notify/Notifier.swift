import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// `--notify URL`: tells the operator of each held request and its outcome (README, "Notifications").
///
/// Every URL has its own bounded queue and sender, on AsyncHTTPClient's own event loops, never the
/// proxy's: a slow or dead receiver delays only its own messages. Each message gets `attempts`
/// tries with a timeout each; what still fails, and what does not fit in the queue, is an
/// `egress_notify` event — never a delay or a refusal for the agent.
public final class Notifier: SupervisionObserver {
    public struct Settings: Sendable {
        public var format: NotificationFormat
        /// The operator page, linked from messages (a TCP `--control`).
        public var page: String?
        public var timeout: TimeAmount = .seconds(5)
        public var attempts = 3
        /// Before the second try; doubled for each further one.
        public var backoff: TimeAmount = .milliseconds(500)
        /// Messages waiting per URL.
        public var queueLength = 256
        /// Messages per URL in a burst, then one per `budgetInterval` seconds.
        public var burst = 20
        public var budgetInterval: TimeInterval = 3

        public init(format: NotificationFormat, page: String? = nil) {
            self.format = format
            self.page = page
        }
    }

    private struct Sender {
        var target: NotifyTarget
        var messages: AsyncStream<NotificationMessage>.Continuation
        var task: Task<Void, Never>
        /// Messages the full queue refused; reported by the sender, off the supervision lock.
        var dropped: NIOLockedValueBox<Int>
    }

    private let settings: Settings
    private let page: NIOLockedValueBox<String?>
    private let client: HTTPClient
    private let events: EventLog
    private let senders: [Sender]

    public init(targets: [NotifyTarget], settings: Settings, events: EventLog) {
        self.settings = settings
        self.page = NIOLockedValueBox(settings.page)
        self.events = events
        var configuration = HTTPClient.Configuration()
        // A receiver that redirects is not followed: the URL the operator gave is the only one used.
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: settings.timeout, read: settings.timeout)
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.client = client
        senders = targets.map { target in
            let (stream, continuation) = AsyncStream.makeStream(
                of: NotificationMessage.self,
                bufferingPolicy: .bufferingOldest(settings.queueLength)
            )
            let dropped = NIOLockedValueBox(0)
            let task = Task {
                var budget = NotificationBudget(burst: settings.burst, interval: settings.budgetInterval)
                for await message in stream {
                    let lost = dropped.withLockedValue { count in
                        defer { count = 0 }
                        return count
                    }
                    if lost > 0 {
                        events.emit(Self.event("dropped", target: target, id: message.requestID, detail: "\(lost) messages: queue full"), minimum: .blocks)
                    }
                    let (send, suppressed) = budget.take(now: Date())
                    guard send else { continue }
                    if suppressed > 0 {
                        let summary = NotificationMessage.suppressed(suppressed, format: settings.format)
                        events.emit(
                            Self.event("suppressed", target: target, id: "", detail: "\(suppressed) messages over the rate limit"),
                            minimum: .blocks
                        )
                        await Self.deliver(summary, to: target, client: client, settings: settings, events: events)
                    }
                    await Self.deliver(message, to: target, client: client, settings: settings, events: events)
                }
            }
            return Sender(target: target, messages: continuation, task: task, dropped: dropped)
        }
    }

    public func supervisionChanged(_ change: SupervisionChange) {
        guard let message = NotificationMessage.make(change, format: settings.format, page: pageLink) else {
            return
        }
        for sender in senders {
            // Called under the supervision queue's lock: only count here, the sender reports.
            if case .dropped = sender.messages.yield(message) { sender.dropped.withLockedValue { $0 += 1 } }
        }
    }

    /// The operator page's address, once the control listener is bound.
    public var pageLink: String? {
        get { page.withLockedValue { $0 } }
        set { page.withLockedValue { $0 = newValue } }
    }

    /// Sends what is queued for at most `grace`, then gives up on the rest and stops.
    public func shutdown(grace: TimeAmount = .seconds(5)) async {
        for sender in senders { sender.messages.finish() }
        let tasks = senders.map(\.task)
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(grace.nanoseconds))
            for task in tasks { task.cancel() }
        }
        for task in tasks { await task.value }
        timer.cancel()
        try? await client.shutdown()
    }

    private static func deliver(
        _ message: NotificationMessage,
        to target: NotifyTarget,
        client: HTTPClient,
        settings: Settings,
        events: EventLog
    ) async {
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: message.contentType)
        request.headers.add(name: "user-agent", value: "bottle-egress")
        for (name, value) in message.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: message.body))
        var detail = ""
        var delay = settings.backoff
        var tries = 0
        for attempt in 1...max(1, settings.attempts) {
            if Task.isCancelled {
                detail = "not sent: egress is stopping"
                break
            }
            if attempt > 1 {
                try? await Task.sleep(nanoseconds: UInt64(delay.nanoseconds))
                delay = delay * 2
            }
            tries += 1
            do {
                let response = try await client.execute(request, timeout: settings.timeout)
                // The answer is read only to free the connection; nothing in it is used.
                _ = try? await response.body.collect(upTo: 64 << 10)
                if (200..<300).contains(response.status.code) { return }
                detail = "HTTP \(response.status.code)"
            } catch {
                detail = Self.describe(error)
            }
        }
        events.emit(
            event("failed", target: target, id: message.requestID, detail: "\(detail) (\(tries) of \(settings.attempts) tries)"),
            minimum: .blocks
        )
    }

    static func event(_ status: String, target: NotifyTarget, id: String, detail: String) -> EgressEvent {
        EgressEvent(
            name: "egress_notify",
            fields: [
                ("status", .string(status)), ("target", .string(target.display)), ("id", .string(id)),
                ("detail", .string(detail)),
            ]
        )
    }

    /// Errors without the URL: its path may be a credential.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "the receiver closed the connection"
            default: return "request failed"
            }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "cannot connect"
    }
}
