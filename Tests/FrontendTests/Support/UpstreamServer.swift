import EgressTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// A request as the upstream test server saw it.
struct RecordedRequest: Sendable {
    var head: HTTPRequestHead
    var body: [UInt8]
    /// False when the connection closed before the request's end.
    var complete: Bool

    var bodyText: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
}

/// Opens once; callbacks registered before or after run when it is open.
final class Gate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [@Sendable () -> Void])>((false, []))

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0() }
    }

    func whenOpen(_ callback: @escaping @Sendable () -> Void) {
        let runNow = state.withLockedValue { state in
            if state.open { return true }
            state.waiters.append(callback)
            return false
        }
        if runNow { callback() }
    }
}

enum UpstreamReply: Sendable {
    case full(status: Int = 200, headers: [(String, String)] = [], body: [UInt8])
    /// Sends `first` as a chunk, waits for `gate`, then sends `rest` and ends.
    case gatedStream(headers: [(String, String)], first: String, gate: Gate, rest: [String])
    /// Writes `chunkSize` chunks whenever the channel is writable, up to `total` bytes.
    case flood(chunkSize: Int, total: Int)
    /// Closes the connection without answering.
    case hangUp
    /// Keeps the connection open and never answers.
    case silent
    /// Answers through `git http-backend` (CGI) for repositories under `root`.
    case git(root: String)
    /// A chunked (HTTP/1.1) or stream-delimited (HTTP/2) body followed by trailers, as gRPC answers.
    case withTrailers(headers: [(String, String)], body: [UInt8], trailers: [(String, String)])

    static func echo(_ request: RecordedRequest) -> UpstreamReply {
        var headers: [String: String] = [:]
        for (name, value) in request.head.headers { headers[name.lowercased()] = value }
        let object: [String: Any] = [
            "method": request.head.method.rawValue,
            "uri": request.head.uri,
            "headers": headers,
            "body": request.bodyText,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return .full(headers: [("content-type", "application/json")], body: Array(data))
    }
}

/// An HTTP/1.1 origin on 127.0.0.1 (TLS optional) that records requests and answers as told.
final class UpstreamServer: Sendable {
    typealias Responder = @Sendable (RecordedRequest) -> UpstreamReply

    let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let recorded = NIOLockedValueBox<[RecordedRequest]>([])
    private let flooded = NIOLockedValueBox(0)
    private let connectionCount = NIOLockedValueBox(0)

    var requests: [RecordedRequest] { recorded.withLockedValue { $0 } }
    var floodedBytes: Int { flooded.withLockedValue { $0 } }
    var connectionsAccepted: Int { connectionCount.withLockedValue { $0 } }

    private init(port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup) {
        self.port = port
        self.channel = channel
        self.group = group
    }

    /// With `http2`, `tls` must offer `h2` by ALPN: a client that chooses it is served HTTP/2, one
    /// stream per request (the same responder), and `connectionsAccepted` counts connections, not streams.
    static func start(
        tls: NIOSSLContext? = nil,
        http2: Bool = false,
        readGate: Gate? = nil,
        responder: @escaping Responder = UpstreamReply.echo
    ) async throws -> UpstreamServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = NIOLockedValueBox<UpstreamServer?>(nil)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let readGate {
                        // A slow upstream: nothing (not even the TLS handshake) is read until the gate opens.
                        _ = channel.setOption(ChannelOptions.autoRead, value: false)
                        readGate.whenOpen {
                            channel.eventLoop.execute {
                                _ = channel.setOption(ChannelOptions.autoRead, value: true)
                                channel.read()
                            }
                        }
                    }
                    let sync = channel.pipeline.syncOperations
                    let report: @Sendable (UpstreamServerEvent) -> Void = { event in
                        guard let server = box.withLockedValue({ $0 }) else { return }
                        switch event {
                        case .request(let request): server.recorded.withLockedValue { $0.append(request) }
                        case .flooded(let bytes): server.flooded.withLockedValue { $0 += bytes }
                        case .connection: server.connectionCount.withLockedValue { $0 += 1 }
                        }
                    }
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    guard http2 else {
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(UpstreamServerHandler(responder: responder, report: report))
                        return
                    }
                    report(.connection)
                    try sync.addHandler(
                        ApplicationProtocolNegotiationHandler { result in
                            channel.eventLoop.makeCompletedFuture {
                                let sync = channel.pipeline.syncOperations
                                guard case .negotiated("h2") = result else {
                                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                                    try sync.addHandler(
                                        UpstreamServerHandler(responder: responder, countsConnection: false, report: report)
                                    )
                                    return
                                }
                                _ = try sync.configureHTTP2Pipeline(
                                    mode: .server,
                                    connectionConfiguration: .init(),
                                    streamConfiguration: .init()
                                ) { stream in
                                    stream.eventLoop.makeCompletedFuture {
                                        try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                                        try stream.pipeline.syncOperations.addHandler(
                                            UpstreamServerHandler(responder: responder, countsConnection: false, report: report)
                                        )
                                    }
                                }
                            }
                        }
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = UpstreamServer(port: channel.localAddress!.port!, channel: channel, group: group)
        box.withLockedValue { $0 = server }
        return server
    }

    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private enum UpstreamServerEvent {
    case request(RecordedRequest)
    case flooded(Int)
    case connection
}

private final class UpstreamServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: UpstreamServer.Responder
    private let report: @Sendable (UpstreamServerEvent) -> Void
    private let countsConnection: Bool
    private var current: RecordedRequest?
    private var flood: (chunk: ByteBuffer, remaining: Int)?

    init(
        responder: @escaping UpstreamServer.Responder,
        countsConnection: Bool = true,
        report: @escaping @Sendable (UpstreamServerEvent) -> Void
    ) {
        self.responder = responder
        self.countsConnection = countsConnection
        self.report = report
    }

    func channelActive(context: ChannelHandlerContext) {
        if countsConnection { report(.connection) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            current = RecordedRequest(head: head, body: [], complete: false)
        case .body(let buffer):
            current?.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard var request = current else { return }
            request.complete = true
            current = nil
            report(.request(request))
            reply(responder(request), to: request, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let request = current { report(.request(request)) }
        current = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pumpFlood(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func reply(_ reply: UpstreamReply, to request: RecordedRequest, context: ChannelHandlerContext) {
        switch reply {
        case .full(let status, let headers, let body):
            var head = HTTPResponseHead(
                version: .http1_1,
                status: .init(statusCode: status),
                headers: HTTPHeaders(headers)
            )
            if !head.headers.contains(name: "content-length") {
                head.headers.add(name: "content-length", value: String(body.count))
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if request.head.method != .HEAD {
                context.write(
                    wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                    promise: nil
                )
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .gatedStream(let headers, let first, let gate, let rest):
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(headers))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: first)))),
                promise: nil
            )
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            gate.whenOpen {
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    for chunk in rest {
                        context.write(
                            handler.wrapOutboundOut(
                                .body(.byteBuffer(context.channel.allocator.buffer(string: chunk)))
                            ),
                            promise: nil
                        )
                    }
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        case .flood(let chunkSize, let total):
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": String(total)])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            flood = (context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: chunkSize), total)
            pumpFlood(context: context)
        case .withTrailers(let headers, let body, let trailers):
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(headers))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(HTTPHeaders(trailers))), promise: nil)
        case .hangUp:
            context.close(promise: nil)
        case .silent:
            break
        case .git(let root):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            DispatchQueue.global().async {
                let output = GitCGI.run(root: root, request: request)
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    let head = HTTPResponseHead(
                        version: .http1_1,
                        status: .init(statusCode: output.status),
                        headers: HTTPHeaders(output.headers + [("content-length", String(output.body.count))])
                    )
                    context.write(handler.wrapOutboundOut(.head(head)), promise: nil)
                    context.write(
                        handler.wrapOutboundOut(
                            .body(.byteBuffer(context.channel.allocator.buffer(bytes: output.body)))
                        ),
                        promise: nil
                    )
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }

    private func pumpFlood(context: ChannelHandlerContext) {
        while var state = flood, context.channel.isWritable {
            let size = min(state.chunk.readableBytes, state.remaining)
            let slice = state.chunk.getSlice(at: state.chunk.readerIndex, length: size)!
            state.remaining -= size
            report(.flooded(size))
            if state.remaining == 0 {
                flood = nil
                context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            flood = state
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
        }
    }
}

/// Runs `git http-backend` as a CGI program for one buffered request.
enum GitCGI {
    struct Output {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    static func run(root: String, request: RecordedRequest) -> Output {
        let uri = request.head.uri
        let path = String(uri.prefix { $0 != "?" })
        let query = uri.contains("?") ? String(uri[uri.index(after: uri.firstIndex(of: "?")!)...]) : ""
        var environment: [String: String] = [
            "GIT_PROJECT_ROOT": root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": request.head.method.rawValue,
            "CONTENT_LENGTH": String(request.body.count),
            "PATH": "/usr/bin:/bin",
        ]
        if let contentType = request.header("content-type") { environment["CONTENT_TYPE"] = contentType }
        if let protocolHeader = request.header("git-protocol") { environment["GIT_PROTOCOL"] = protocolHeader }
        guard let directory = try? TemporaryDirectory() else {
            return Output(status: 500, headers: [], body: Array("cannot make a directory for git".utf8))
        }
        let input = directory.file("stdin")
        let output = directory.file("stdout")
        _ = FileManager.default.createFile(atPath: input, contents: Data(request.body))
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        do {
            let child = try ChildProcess("/usr/bin/git", ["http-backend"], environment: environment, stdin: input, stdout: output)
            _ = child.waitForExitBlocking()
        } catch {
            return Output(status: 500, headers: [], body: Array("cannot run git: \(error)".utf8))
        }
        let data = FileManager.default.contents(atPath: output) ?? Data()
        return parse(Array(data))
    }

    private static func parse(_ bytes: [UInt8]) -> Output {
        var status = 200
        var headers: [(String, String)] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            var line = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            index = lineEnd + 1
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                status = Int(value.prefix(3)) ?? 500
            } else {
                headers.append((name, value))
            }
        }
        return Output(status: status, headers: headers, body: Array(bytes[index...]))
    }
}
