import NIOCore
import NIOHTTP1

/// The end of an exchange: counted once, the upstream connection returned, the next request let in.
extension ProxyRequestHandler {
    /// Counts the request in `egress_requests_total`, once: `forwarded` when its response was
    /// delivered, `blocked` or `failed` when it was refused or broke off.
    func settle(_ exchange: Exchange, _ decision: String) {
        guard !exchange.settled else { return }
        exchange.settled = true
        services.metrics.requestSettled(decision)
    }

    /// Settles the exchange, then writes the response's end. The state changes first: writing the
    /// end makes HTTPServerPipelineHandler deliver the next pipelined request synchronously, and
    /// that request must find the handler ready for it (docs/ARCHITECTURE.md, "Pipelining").
    func finishExchange(_ exchange: Exchange, context: ChannelHandlerContext) {
        settle(exchange, "forwarded")
        if let connection = exchange.connection {
            exchange.connection = nil
            services.pool(on: context.eventLoop).release(
                connection,
                reusable: exchange.upstreamReusable && exchange.requestEnded
            )
        }
        let lastWrite = context.eventLoop.makePromise(of: Void.self)
        // A held response is counted until it has left: queued for the agent, it is still held.
        let held = exchange.held
        lastWrite.futureResult.whenComplete { _ in held.release() }
        if exchange.requestEnded {
            // A connection that closes takes no further request, pipelined or not.
            state = exchange.closeClientAfter ? .closed : .idle
            if !exchange.closeClientAfter { awaitNextRequest(context: context) }
        } else {
            // The upstream answered before the agent finished sending: drop the rest of the body.
            state = .discarding(closeAfter: exchange.closeClientAfter ? lastWrite.futureResult : nil)
            perform(deadlines.discardingBody(), context: context)
        }
        if exchange.requestEnded && exchange.closeClientAfter { close(context: context, after: lastWrite.futureResult) }
        // Before the write: a request it delivers may pause reads again for its own upstream.
        resumeReads()
        writeResponseEnd(context, promise: lastWrite)
    }
}
