import NIOCore
import NIOHTTP1

/// Answers the proxy gives itself, always JSON (README, "Request handling").
extension ProxyRequestHandler {
    func writeRefusal(_ response: Machine.RefusalResponse, context: ChannelHandlerContext) {
        if let event = response.event { services.events.emit(event, minimum: .blocks) }
        let (head, body) = BlockResponse.parts(
            status: response.refusal.status,
            reason: response.refusal.reason,
            version: response.version,
            close: response.closeConnection,
            allocator: context.channel.allocator
        )
        var writer = context
        if response.withoutRequest {
            // No head was delivered, so HTTPServerPipelineHandler expects no response: write below it.
            let pipelining = siblings.first { $0 is HTTPServerPipelineHandler }.flatMap {
                try? context.pipeline.syncOperations.context(handler: $0)
            }
            if let pipelining { writer = pipelining }
        }
        writer.write(wrapOutboundOut(.head(head)), promise: nil)
        writer.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        lastWrite = written.futureResult
        writer.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }
}
