import NIOCore
import NIOHTTP1

/// Agent → upstream: the pooled connection, the request head and body with backpressure, the
/// response timeout, and the retry of a reused connection (docs/ARCHITECTURE.md, "Upstream reuse").
extension ProxyRequestHandler {
    func connectUpstream(_ exchange: Exchange, fresh: Bool = false, context: ChannelHandlerContext) {
        pauseReads()
        services.pool(on: context.eventLoop).acquire(exchange.target, fresh: fresh) { result in
            self.upstreamAcquired(result, for: exchange)
        }
    }

    func upstreamAcquired(_ result: Result<UpstreamConnection, UpstreamFailure>, for exchange: Exchange) {
        guard case .exchanging(let current) = state, current === exchange, let context else {
            // The agent left while we were connecting; the fresh connection is still clean.
            if case .success(let connection) = result {
                services.pool(on: connection.channel.eventLoop).release(connection, reusable: true)
            }
            return
        }
        switch result {
        case .failure(let failure):
            failExchange(
                exchange,
                failure.refusal,
                context: context
            )
        case .success(let connection):
            exchange.connection = connection
            connection.handler.receiver = self
            connection.channel.write(HTTPClientRequestPart.head(exchange.upstreamHead), promise: nil)
            let buffered = exchange.buffered
            exchange.buffered = []
            for part in buffered {
                // A write can fail at once and end (or retry) this exchange from inside it.
                guard case .exchanging(let current) = state, current === exchange, exchange.connection === connection
                else { return }
                switch part {
                case .body(let buffer):
                    sendUpstream(body: buffer, exchange: exchange, connection: connection)
                case .end:
                    finishUpstreamRequest(exchange, connection: connection)
                case .head:
                    // Only body parts and the end are buffered; a head here was never judged.
                    state = .closed
                    context.close(promise: nil)
                    return
                }
            }
            guard case .exchanging(let current) = state, current === exchange, exchange.connection === connection
            else { return }
            connection.channel.flush()
            if connection.channel.isWritable { resumeReads() }
        }
    }

    /// Every request body byte goes upstream through here, so the level-2 log shows what was sent.
    /// A body behind a head without framing would be parsed upstream as another request: never sent.
    func sendUpstream(body: ByteBuffer, exchange: Exchange, connection: UpstreamConnection) {
        if body.readableBytes > 0, exchange.upstreamFraming == .noBody, let context {
            failExchange(
                exchange,
                Refusal(.badRequest, "egress: request body without framing"),
                context: context
            )
            return
        }
        exchange.requestBody?.append(body.readableBytesView)
        connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
    }

    func finishUpstreamRequest(_ exchange: Exchange, connection: UpstreamConnection) {
        connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        if exchange.upstreamResponseHead == nil, let context {
            exchange.responseTimer?.cancel()
            exchange.responseTimer = context.eventLoop.assumeIsolated().scheduleTask(
                in: services.upstreamSettings.responseTimeout
            ) {
                self.upstreamResponseTimedOut(exchange)
            }
        }
        if let body = exchange.requestBody {
            services.events.emit(
                .request(context: exchange.context, headers: exchange.upstreamHead.headers, body: body),
                minimum: .full
            )
        }
    }

    func upstreamResponseTimedOut(_ exchange: Exchange) {
        guard case .exchanging(let current) = state, current === exchange, exchange.upstreamResponseHead == nil,
            let context
        else { return }
        let failure = UpstreamFailure.responseTimeout(target: exchange.target.description)
        failExchange(exchange, Refusal(.gatewayTimeout, failure.reason), context: context)
    }
}

// MARK: Upstream → agent

extension ProxyRequestHandler: UpstreamResponseReceiver {
    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        guard case .exchanging(let exchange) = state, let context else { return }
        switch part {
        case .head(let upstreamHead):
            exchange.responseTimer?.cancel()
            exchange.upstreamResponseHead = upstreamHead
            // The upstream answered: the request is no longer replayed, nor its held body kept.
            exchange.replay = nil
            exchange.held.release()
            if !upstreamHead.isKeepAlive { exchange.upstreamReusable = false }
            if exchange.dlp.scansResponse(upstreamHead, requestMethod: exchange.method) {
                if exchange.dlp.inboundAction == .block {
                    // Nothing reaches the agent until the scan has passed.
                    exchange.heldResponseBody = context.channel.allocator.buffer(capacity: 0)
                    return
                }
                exchange.inboundCopy = context.channel.allocator.buffer(capacity: 0)
            }
            writeResponseHead(upstreamHead, exchange: exchange, context: context)
        case .body(let buffer):
            exchange.responseBody?.append(buffer.readableBytesView)
            if exchange.heldResponseBody != nil {
                holdResponseBody(buffer, exchange: exchange, context: context)
                return
            }
            copyForInboundWarn(buffer, exchange: exchange)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable, let connection = exchange.connection {
                connection.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
        case .end:
            exchange.responseEnded = true
            if let body = exchange.responseBody, let head = exchange.upstreamResponseHead {
                services.events.emit(
                    .response(
                        host: exchange.context.host,
                        status: Int(head.status.code),
                        headers: head.headers,
                        body: body
                    ),
                    minimum: .full
                )
            }
            if exchange.heldResponseBody != nil {
                scanHeldResponse(exchange, context: context)
                return
            }
            scanStreamedResponse(exchange)
            finishExchange(exchange, context: context)
        }
    }

    /// Writes the agent's response head, framed for the agent's connection.
    func writeResponseHead(_ upstreamHead: HTTPResponseHead, exchange: Exchange, context: ChannelHandlerContext) {
        var (head, closeAfter) = ResponseFraming.clientHead(
            from: upstreamHead,
            requestMethod: exchange.method,
            clientVersion: exchange.clientVersion
        )
        if closeAfter { exchange.closeClientAfter = true }
        if exchange.closeClientAfter { head.headers.replaceOrAdd(name: "connection", value: "close") }
        exchange.responseHeadSent = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() }
    }

    func upstreamDidClose(error: (any Error)?) {
        guard case .exchanging(let exchange) = state, let context else { return }
        let wasReused = exchange.connection?.wasReused ?? false
        exchange.connection = nil
        if exchange.responseHeadSent {
            // Part of the response is already with the agent: closing is the only honest signal.
            settle(exchange, "failed")
            state = .closed
            context.close(promise: nil)
        } else if wasReused, error == nil, exchange.upstreamResponseHead == nil, exchange.requestEnded,
            let replay = exchange.replay.take()
        {
            // A pooled connection the server closed while it was idle, before any response byte:
            // send the request once more on a fresh connection (docs/ARCHITECTURE.md, "Upstream reuse").
            exchange.responseTimer?.cancel()
            exchange.responseTimer = nil
            if exchange.requestBody != nil { exchange.requestBody = LoggedBody() }
            exchange.buffered = replay
            connectUpstream(exchange, fresh: true, context: context)
        } else {
            let failure = UpstreamFailure.closedEarly(target: exchange.target.description)
            failExchange(exchange, Refusal(.badGateway, failure.reason), context: context)
        }
    }
}
