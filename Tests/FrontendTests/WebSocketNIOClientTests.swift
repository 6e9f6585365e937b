import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Testing

@testable import Frontend

/// WebSocket through the in-process proxy with swift-nio on both ends: NIO's client upgrader
/// through a CONNECT tunnel, and a wss:// server built on NIO's server upgrader.
@Suite("WebSocket with NIO's client", .timeLimit(.minutes(2)))
struct WebSocketNIOClientTests {
    static let secret = "ghp_" + "M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4"
    static let routes = """
        routes:
          - host: ws.test
            dlp: {outbound_on_match: block, inbound_detectors: false}
          - host: wsplain.test
            dlp: {outbound_on_match: block, inbound_detectors: false}
        """

    /// What one side of a WebSocket connection saw.
    final class Seen: Sendable {
        private let state = NIOLockedValueBox<(texts: [String], close: (code: WebSocketErrorCode, reason: String)?)>(([], nil))
        var texts: [String] { state.withLockedValue { $0.texts } }
        var close: (code: WebSocketErrorCode, reason: String)? { state.withLockedValue { $0.close } }
        func record(_ text: String) { state.withLockedValue { $0.texts.append(text) } }
        func record(close code: WebSocketErrorCode, reason: String) { state.withLockedValue { $0.close = (code, reason) } }

        func waitFor(_ condition: @escaping (Seen) -> Bool) async throws {
            for _ in 0..<200 where !condition(self) { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Records text messages and the close frame; the server side echoes every message back.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let seen: Seen
        let echoes: Bool

        init(seen: Seen, echoes: Bool) {
            self.seen = seen
            self.echoes = echoes
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            var payload = frame.unmaskedData
            switch frame.opcode {
            case .text:
                let text = payload.readString(length: payload.readableBytes) ?? ""
                seen.record(text)
                if echoes {
                    context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: frame.unmaskedData)), promise: nil)
                }
            case .connectionClose:
                let code = payload.readWebSocketErrorCode() ?? .unknown(0)
                seen.record(close: code, reason: payload.readString(length: payload.readableBytes) ?? "")
                context.close(promise: nil)
            default:
                break
            }
        }
    }

    /// A wss:// echo server on NIO's server upgrader (ws:// without `pki`).
    static func startServer(pki: TestPKI?, seen: Seen, group: any EventLoopGroup) async throws -> any Channel {
        let tls = try pki?.serverContext(for: "ws.test")
        return try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let upgrader = NIOWebSocketServerUpgrader(
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(Recorder(seen: seen, echoes: true))
                            }
                        }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Waits for the proxy's answer to CONNECT, then leaves the pipeline.
    final class ConnectResponse: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<Void>
        private var received = ""

        init(done: EventLoopPromise<Void>) { self.done = done }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readString(length: buffer.readableBytes) ?? ""
            guard received.contains("\r\n\r\n") else { return }
            if received.hasPrefix("HTTP/1.1 200") { done.succeed() } else { done.fail(TestFailure(received)) }
        }
    }

    /// NIO's WebSocket client through the proxy's CONNECT tunnel to `wss://ws.test/echo`; runs
    /// `body` with the upgraded channel.
    static func withClient(
        proxyPort: Int,
        caPath: String,
        seen: Seen,
        group: any EventLoopGroup,
        _ body: (any Channel) async throws -> Void
    ) async throws {
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: proxyPort).get()
        let connected = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(ConnectResponse(done: connected))
        }.get()
        try await channel.writeAndFlush(ByteBuffer(string: "CONNECT ws.test:443 HTTP/1.1\r\nHost: ws.test:443\r\n\r\n")).get()
        try await connected.futureResult.get()

        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caPath)
        let tls = try NIOSSLContext(configuration: configuration)
        let upgraded = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit {
            let sync = channel.pipeline.syncOperations
            sync.removeHandler(try sync.handler(type: ConnectResponse.self), promise: nil)
            try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: "ws.test"))
            let upgrader = NIOWebSocketClientUpgrader(
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Recorder(seen: seen, echoes: false))
                        upgraded.succeed()
                    }
                }
            )
            try sync.addHTTPClientHandlers(
                withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
            )
        }.get()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/echo", headers: ["host": "ws.test"])
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        try await upgraded.futureResult.get()
        try await body(channel)
        try? await channel.close()
    }

    static func text(_ text: String, fin: Bool = true, opcode: WebSocketOpcode = .text, rsv1: Bool = false) -> WebSocketFrame {
        WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: .random(), data: ByteBuffer(string: text))
    }

    @Test("messages, a fragmented secret and a compressed frame, with NIO's WebSocket client")
    func nioClientThroughTheProxy() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pki = try TestPKI()
        let upstreamSeen = Seen()
        let server = try await Self.startServer(pki: pki, seen: upstreamSeen, group: group)
        let proxy = try await ProxyHarness.start(
            routes: Self.routes,
            connectTo: [("ws.test", 443, server.localAddress!.port!)],
            trusting: pki,
            scanners: 1
        )

        let echo = Seen()
        try await Self.withClient(proxyPort: proxy.port, caPath: proxy.caPath, seen: echo, group: group) { channel in
            try await channel.writeAndFlush(Self.text("hello from NIO")).get()
            try await echo.waitFor { $0.texts.count == 1 }
        }
        #expect(echo.texts == ["hello from NIO"])

        let leak = Seen()
        try await Self.withClient(proxyPort: proxy.port, caPath: proxy.caPath, seen: leak, group: group) { channel in
            channel.write(Self.text("my token is ", fin: false), promise: nil)
            channel.write(Self.text(String(Self.secret.prefix(12)), fin: false, opcode: .continuation), promise: nil)
            try await channel.writeAndFlush(Self.text(String(Self.secret.dropFirst(12)), opcode: .continuation)).get()
            try await leak.waitFor { $0.close != nil }
        }
        #expect(leak.close?.code == .policyViolation)
        #expect(leak.close?.reason == "egress DLP: GitHub token (classic) found in WebSocket message")
        #expect(!upstreamSeen.texts.contains { $0.contains("token") }, "\(upstreamSeen.texts)")

        let compressed = Seen()
        try await Self.withClient(proxyPort: proxy.port, caPath: proxy.caPath, seen: compressed, group: group) { channel in
            try await channel.writeAndFlush(Self.text("deflated?", rsv1: true)).get()
            try await compressed.waitFor { $0.close != nil }
        }
        #expect(compressed.close?.code == .protocolError)
        #expect(compressed.close?.reason.contains("reserved bits") == true)
        #expect(upstreamSeen.texts == ["hello from NIO"])

        await proxy.shutdown()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test("ws:// through the plain listener: an absolute-form upgrade, scanned the same")
    func plainWebSocketThroughTheForwardProxy() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstreamSeen = Seen()
        let server = try await Self.startServer(pki: nil, seen: upstreamSeen, group: group)
        let proxy = try await ProxyHarness.start(routes: Self.routes, connectTo: [("wsplain.test", 80, server.localAddress!.port!)], scanners: 1)
        let seen = Seen()
        let upgraded = group.next().makePromise(of: (any Channel).self)
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: proxy.port).get()
        try await channel.eventLoop.submit {
            let upgrader = NIOWebSocketClientUpgrader(
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Recorder(seen: seen, echoes: false))
                        upgraded.succeed(channel)
                    }
                }
            )
            try channel.pipeline.syncOperations.addHTTPClientHandlers(withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        }.get()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://wsplain.test/echo", headers: ["host": "wsplain.test"])
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        _ = try await upgraded.futureResult.get()
        try await channel.writeAndFlush(Self.text("plain hello")).get()
        try await seen.waitFor { $0.texts.count == 1 }
        try await channel.writeAndFlush(Self.text("key \(Self.secret)")).get()
        try await seen.waitFor { $0.close != nil }
        #expect(seen.texts == ["plain hello"])
        #expect(seen.close?.code == .policyViolation)
        #expect(upstreamSeen.texts == ["plain hello"])
        try? await channel.close()
        await proxy.shutdown()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
