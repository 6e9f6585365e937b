import NIOCore
import NIOHTTP1

/// The agent-facing HTTP/1.1 stack, used on the listener connection and again inside each tunnel
/// (where ``TunnelProtocolSwitch`` replaces it when the agent chooses HTTP/2).
enum ClientPipeline {
    /// Generous for real clients, small enough that a hostile agent cannot make the proxy hold much.
    static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldCount = 1_000
        return limits
    }

    @discardableResult
    static func addHTTPHandlers(
        to sync: ChannelPipeline.SynchronousOperations,
        mode: ProxyRequestHandler.Mode,
        services: ProxyServices
    ) throws -> [any RemovableChannelHandler] {
        var encoderConfiguration = HTTPResponseEncoder.Configuration()
        // ResponseFraming sets framing headers itself: it knows which request a response answers.
        encoderConfiguration.automaticallySetFramingHeaders = false
        let encoder = HTTPResponseEncoder(configuration: encoderConfiguration)
        // Bytes after a CONNECT head belong to the tunnel: forward them when the decoder is removed.
        let decoder = ByteToMessageHandler(
            HTTPRequestDecoder(
                leftOverBytesStrategy: .forwardBytes,
                informationalResponseStrategy: .drop,
                limitConfiguration: decoderLimits
            )
        )
        let pipelining = HTTPServerPipelineHandler()
        try sync.addHandler(encoder)
        try sync.addHandler(decoder)
        try sync.addHandler(pipelining)
        let siblings: [any RemovableChannelHandler] = [encoder, decoder, pipelining]
        let handler = ProxyRequestHandler(mode: mode, services: services, siblings: siblings)
        try sync.addHandler(handler)
        return siblings + [handler]
    }
}
