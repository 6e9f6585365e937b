import NIOCore
import NIOHTTP1

/// Answers the proxy gives itself: refusals before and during an exchange, always JSON
/// (README, "Request handling"), each settling its request once.
extension ProxyRequestHandler {
    /// Refuses a request at its head; the rest of it is read and dropped (`discarding`), and the
    /// connection closes after it when `closeAfter` or the agent asked to.
    func refuse(
        _ head: HTTPRequestHead,
        _ refusal: Refusal,
        _ requestContext: RequestContext,
        closeAfter: Bool,
        context: ChannelHandlerContext
    ) {
        services.metrics.requestSettled(refusal.outcome.rawValue)
        let close = closeAfter || !head.isKeepAlive
        // The state first: writing the refusal's end can deliver this request's end (and the next
        // pipelined request) before `respond` returns.
        let written = context.eventLoop.makePromise(of: Void.self)
        state = .discarding(closeAfter: close ? written.futureResult : nil)
        perform(deadlines.discardingBody(), context: context)
        respond(
            status: refusal.status,
            reason: refusal.reason,
            version: head.version,
            event: .block(reason: refusal.reason, context: requestContext),
            closeAfter: close,
            context: context,
            closeNow: false,
            promise: written
        )
    }

    /// An exchange failed before any response byte reached the agent. `eventContext` replaces the
    /// exchange's context in the block event when the path itself held a secret.
    func failExchange(
        _ exchange: Exchange,
        _ refusal: Refusal,
        responseStatus: Int? = nil,
        eventContext: RequestContext? = nil,
        context: ChannelHandlerContext
    ) {
        let (status, reason) = (refusal.status, refusal.reason)
        exchange.responseTimer?.cancel()
        settle(exchange, refusal.outcome.rawValue)
        exchange.held.release()
        if let connection = exchange.connection {
            connection.handler.receiver = nil
            services.pool(on: context.eventLoop).release(connection, reusable: false)
            exchange.connection = nil
        }
        let closeAfter = exchange.closeClientAfter
        let event = EgressEvent.block(
            reason: reason,
            context: eventContext ?? exchange.context,
            responseStatus: responseStatus
        )
        // Before the refusal is written: it may deliver the next pipelined request, which may pause
        // reads for its own upstream.
        resumeReads()
        let written = context.eventLoop.makePromise(of: Void.self)
        let requestEnded = exchange.requestEnded
        if requestEnded {
            state = closeAfter ? .closed : .idle
            if !closeAfter { awaitNextRequest(context: context) }
        } else {
            // The rest of the request is read and dropped; a close waits for its end.
            state = .discarding(closeAfter: closeAfter ? written.futureResult : nil)
            perform(deadlines.discardingBody(), context: context)
        }
        respond(
            status: status,
            reason: reason,
            version: exchange.clientVersion,
            event: event,
            closeAfter: closeAfter,
            context: context,
            closeNow: requestEnded,
            promise: written
        )
    }

    /// Writes a JSON refusal. With `closeNow` the connection closes once it is written; otherwise
    /// the caller's state decides (a `.discarding` state closes at the request's end).
    @discardableResult
    func respond(
        status: HTTPResponseStatus,
        reason: String,
        version: HTTPVersion,
        event: EgressEvent?,
        closeAfter: Bool,
        context: ChannelHandlerContext,
        closeNow: Bool = true,
        promise: EventLoopPromise<Void>? = nil,
        writingThrough writer: ChannelHandlerContext? = nil
    ) -> EventLoopFuture<Void> {
        let writer = writer ?? context
        if let event { services.events.emit(event, minimum: .blocks) }
        let (head, body) = BlockResponse.parts(
            status: status,
            reason: reason,
            version: version,
            close: closeAfter,
            allocator: context.channel.allocator
        )
        writer.write(wrapOutboundOut(.head(head)), promise: nil)
        writer.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        let written = done.futureResult
        if closeAfter && closeNow { close(context: context, after: written) }
        writeResponseEnd(writer, promise: done)
        return written
    }

    /// Closing with writes still queued would drop them: close once the last one is done.
    func close(context: ChannelHandlerContext, after lastWrite: EventLoopFuture<Void>) {
        lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
