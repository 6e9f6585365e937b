import NIOCore
import NIOHTTP1

/// The agent-facing HTTP/1.1 stack, used on the listener connection and again inside each tunnel.
enum ClientPipeline {
    /// Generous for real clients, small enough that a hostile agent cannot make the proxy hold much.
    static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldCount = 1_000
        return limits
    }

    static func addHTTPHandlers(
        to sync: ChannelPipeline.SynchronousOperations,
        mode: ProxyRequestHandler.Mode,
        services: ProxyServices
    ) throws {
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
        try sync.addHandler(
            ProxyRequestHandler(mode: mode, services: services, siblings: [encoder, decoder, pipelining])
        )
    }
}
