import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A bare TCP client for what curl will not send: malformed requests, abandoned bodies, and
/// readers that stop reading.
final class RawClient: Sendable {
    let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    /// Shared with the collector from before the connection exists: a server that speaks first
    /// (a refusal at accept) may send bytes before `connect` returns.
    private let received: NIOLockedValueBox<[UInt8]>

    var receivedText: String { String(decoding: received.withLockedValue { $0 }, as: UTF8.self) }
    var receivedCount: Int { received.withLockedValue { $0.count } }

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, received: NIOLockedValueBox<[UInt8]>) {
        self.channel = channel
        self.group = group
        self.received = received
    }

    /// Connects; with `autoRead` false nothing is read until `read()` is called (a stalled reader).
    static func connect(port: Int, autoRead: Bool = true, receiveBuffer: Int? = nil) async throws -> RawClient {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = NIOLockedValueBox<[UInt8]>([])
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Collector { bytes in received.withLockedValue { $0.append(contentsOf: bytes) } }
                    )
                }
            }
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel, group: group, received: received)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: text))
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Waits until the peer closes or `seconds` pass.
    func waitForClose(seconds: Int64) async {
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(seconds)) { [channel] in channel.close(promise: nil) }
        try? await channel.closeFuture.get()
        timeout.cancel()
    }

    /// The status codes of the responses received so far, in order.
    var statuses: [Int] {
        receivedText.matches(of: #/HTTP\/1\.[01] (\d{3}) /#).compactMap { Int($0.output.1) }
    }

    /// Waits until `count` responses have arrived (or the peer closed, or `seconds` passed).
    func waitForResponses(_ count: Int, seconds: Int = 10) async {
        for _ in 0..<(seconds * 20) where statuses.count < count && channel.isActive {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// After a `CONNECT` was answered: speaks TLS to the proxy from here on, trusting `caPath`.
    func startTLS(host: String, caPath: String) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caPath)
        let context = try NIOSSLContext(configuration: configuration)
        try await channel.eventLoop.submit { [channel] in
            let handler = try NIOSSLClientHandler(context: context, serverHostname: host)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }.get()
        received.withLockedValue { $0.removeAll() }
    }

    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Closes with a reset (SO_LINGER 0): the proxy notices even while it is not reading.
    func reset() async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        await close()
    }

    /// Sends `text`, then collects everything until the proxy closes the connection (or 10 s pass).
    static func exchange(port: Int, send text: String) async throws -> String {
        let client = try await connect(port: port)
        try await client.send(text)
        await client.waitForClose(seconds: 10)
        let reply = client.receivedText
        await client.close()
        return reply
    }
}

private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let onBytes: ([UInt8]) -> Void

    init(onBytes: @escaping ([UInt8]) -> Void) {
        self.onBytes = onBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onBytes(Array(unwrapInboundIn(data).readableBytesView))
    }
}
