import NIOCore
import NIOHTTP1

/// The upstream side: acquiring a pooled connection for an exchange, and what that connection
/// reports, turned into machine events.
extension ProxyRequestHandler {
    func acquireUpstream(
        _ id: Machine.ExchangeID,
        target: UpstreamTarget,
        fresh: Bool,
        http1Only: Bool,
        context: ChannelHandlerContext
    ) {
        services.pool(on: context.eventLoop).acquire(target, fresh: fresh, http1Only: http1Only) { result in
            switch result {
            case .success(let connection):
                guard self.context != nil else {
                    // This handler is gone (the agent left): nobody else will give it back.
                    self.services.pool(on: connection.channel.eventLoop).release(connection, reusable: true)
                    return
                }
                // Until the machine releases it (which clears this), the connection reports here.
                connection.handler.receiver = self
                self.handle(
                    .upstreamAcquired(
                        id,
                        .acquired(Machine.AcquiredUpstream(connection: connection, wasReused: connection.wasReused))
                    )
                )
            case .failure(let failure):
                self.handle(.upstreamAcquired(id, .failed(failure.refusal)))
            }
        }
    }
}

extension ProxyRequestHandler: UpstreamResponseReceiver {
    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            handle(.responseHead(head))
        case .body(let buffer):
            handle(.responseBody(buffer, agentWritable: context?.channel.isWritable ?? false))
        case .end(let trailers):
            if let trailers, !trailers.isEmpty { handle(.responseTrailers(trailers)) }
            handle(.responseEnd)
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() }
    }

    func upstreamDidClose(error: (any Error)?) {
        handle(.upstreamClosed(cleanly: error == nil))
    }
}
