import EgressRoutes
import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOSSL
import Testing

@testable import Frontend

/// The agent-facing pipeline in an `EmbeddedChannel`: bytes in, bytes out, virtual time, no
/// sockets. Only refusals and deadlines here (forwarding needs a real upstream; the end-to-end
/// tests cover it).
@Suite("the agent-facing handler in an embedded channel")
final class ProxyRequestHandlerTests {
    let threadPool = NIOThreadPool(numberOfThreads: 1)
    let channel = EmbeddedChannel()
    let capture = EventCapture()
    let reads = ReadCounter()

    init() throws {
        threadPool.start()
        let routes = try RoutesConfig.parse(
            yaml: "log: 1\nroutes:\n  - host: api.test\n    matches: [{paths: [{value: /ok/}]}]\n",
            file: "routes.yaml"
        )
        var timeouts = ConnectionTimeouts()
        timeouts.idle = .seconds(75)
        timeouts.requestHead = .seconds(20)
        let services = ProxyServices(
            routes: routes,
            tokens: try TokenStore.resolve(routes, environment: [:]),
            events: EventLog(level: .blocks, sink: capture.sink),
            interception: InterceptionContextCache(authority: try CertificateAuthority.generate(now: Date()), threadPool: threadPool),
            upstreamSettings: UpstreamSettings(
                tlsContext: try NIOSSLContext(configuration: .makeClientConfiguration()),
                http1TLSContext: try NIOSSLContext(configuration: .makeClientConfiguration()),
                socketTuning: SocketTuning(events: EventLog(level: .off, sink: { _ in })),
                ownListeners: OwnListeners(interfaceAddresses: []),
                connectTo: [],
                allowPrivateUpstreams: false,
                resolverPool: threadPool
            ),
            scanner: nil,
            maxScanBytes: 1 << 20,
            supervision: SupervisionQueue(),
            superviseTimeout: .seconds(300),
            metrics: EgressMetrics(),
            connectionTimeouts: timeouts,
            eventLoops: []
        )
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(ClientBytesObserver())
        try ClientPipeline.addHTTPHandlers(to: channel.pipeline.syncOperations, mode: .forwardProxy, services: services)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    deinit {
        _ = try? channel.finish()
        try? threadPool.syncShutdownGracefully()
    }

    func send(_ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        channel.embeddedEventLoop.run()
    }

    var output: String {
        var text = ""
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    static func statuses(_ text: String) -> [Int] {
        text.matches(of: #/HTTP\/1\.[01] (\d{3}) /#).compactMap { Int($0.output.1) }
    }

    @Test func pipelinedRefusalsAreAnsweredInOrderUntilTraceClosesTheConnection() throws {
        try send(
            "GET http://api.test/no/1 HTTP/1.1\r\nHost: api.test\r\n\r\n"
                + "GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n"
                + "TRACE http://api.test/ok/ HTTP/1.1\r\nHost: api.test\r\n\r\n"
        )
        let text = output
        #expect(Self.statuses(text) == [403, 403, 405], "\(text)")
        #expect(text.contains("egress: no route match for GET /no/1 on api.test"))
        #expect(text.contains("egress: host not allowed: evil.test"))
        // TRACE closes the connection once its request has ended.
        #expect(!channel.isActive)
    }

    @Test func anAgentThatDoesNotReadIsNotReadFromEither() throws {
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        let before = reads.count
        channel.read()
        #expect(reads.count == before, "no read while the agent's side is full")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == before + 1, "the held read goes out once the agent drains")
    }

    @Test func anIdleConnectionClosesAtTheIdleDeadline() throws {
        channel.embeddedEventLoop.advanceTime(by: .seconds(74))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(output.isEmpty)
    }

    @Test func aRefusalRestartsTheIdleDeadline() throws {
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        try send("GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n")
        #expect(Self.statuses(output) == [403])
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive, "the idle time counts from the end of the last response")
        channel.embeddedEventLoop.advanceTime(by: .seconds(16))
        #expect(!channel.isActive)
    }

    @Test func aRefusedRequestWhoseBodyNeverEndsIsClosedAtTheDeadline() throws {
        try send("POST http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        #expect(Self.statuses(output) == [403])
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        try send("5\r\nworld\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "a trickled body cannot hold the connection past the deadline")
    }

    @Test func aHalfSentHeadGets408AtTheHeadDeadline() throws {
        try send("GET http://api.test/ok/x HTTP/1.1\r\nHost: api")
        channel.embeddedEventLoop.advanceTime(by: .seconds(19))
        #expect(channel.isActive)
        #expect(output.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        let text = output
        #expect(Self.statuses(text) == [408], "\(text)")
        #expect(text.contains("egress: request head not received within 20 s"))
        #expect(!channel.isActive)
        #expect(capture.events("egress_block").count == 1)
    }
}

/// Counts the reads that reach the socket end of the pipeline.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}

@available(*, unavailable)
extension ReadCounter: Sendable {}
