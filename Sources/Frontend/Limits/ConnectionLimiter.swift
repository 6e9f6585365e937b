import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts open agent connections against `--max-connections`. A connection over the cap gets a
/// canned 503 and is closed before any HTTP handler exists for it.
final class ConnectionLimiter: Sendable {
    private let maximum: Int
    private let open = NIOLockedValueBox(0)
    private let events: EventLog
    private let report = RateLimitedReport()

    init(maximum: Int, events: EventLog) {
        self.maximum = maximum
        self.events = events
    }

    var openConnections: Int { open.withLockedValue { $0 } }

    /// Counts `channel` if there is room (and uncounts it when it closes); `false` when the cap is hit.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { open in
            guard open < maximum else { return false }
            open += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.open.withLockedValue { $0 -= 1 } }
        } else {
            let (now, suppressed) = report.occurred()
            if now {
                var reason = "egress: too many agent connections (\(maximum) open)"
                if suppressed > 0 { reason += "; \(suppressed) more refused since the last report" }
                events.emit(
                    .block(reason: reason, context: RequestContext(host: "", method: "", path: "")),
                    minimum: .blocks
                )
            }
        }
        return admitted
    }

    static let refusalReason = "egress: too many agent connections"
}

/// Answers a connection over the cap with 503 and closes it, without reading a request.
final class OverCapacityResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let body = BlockResponse.body(reason: ConnectionLimiter.refusalReason)
        let response =
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + "connection: close\r\n\r\n\(body)"
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

@available(*, unavailable)
extension OverCapacityResponder: Sendable {}

/// The listener's accept errors (descriptor exhaustion: EMFILE, ENFILE), reported at most once per
/// 10 s; NIO's `AcceptBackoffHandler` before it pauses accepting for a second each time, so the
/// listener resumes by itself once descriptors are free.
final class AcceptErrorReporter: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let events: EventLog
    private let report = RateLimitedReport()

    init(events: EventLog) {
        self.events = events
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let (now, suppressed) = report.occurred()
        guard now else { return }
        let detail: String
        if let ioError = error as? IOError {
            detail =
                ioError.errnoCode == EMFILE || ioError.errnoCode == ENFILE
                ? "out of file descriptors (\(ioError.errnoCode == EMFILE ? "EMFILE" : "ENFILE"))" : "\(ioError)"
        } else {
            detail = "\(error)"
        }
        events.emit(.acceptFailed(detail: detail, suppressed: suppressed), minimum: .blocks)
    }
}

@available(*, unavailable)
extension AcceptErrorReporter: Sendable {}
