import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The control listener (README, "Operating the sidecar"): the operator's HTTP API and page, on a unix socket (mode 0600)
/// or on TCP with a required token. Never the proxy listener.
public final class ControlServer: Sendable {
    public let address: ControlAddress
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(address: ControlAddress, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.address = address
        self.group = group
        self.channel = channel
    }

    /// Binds the listener. TCP requires `token`; on a unix socket a token is optional (the file mode
    /// is the access control) and required when given.
    public static func start(
        address: ControlAddress,
        token: ControlToken?,
        supervision: SupervisionQueue,
        metrics: EgressMetrics? = nil
    ) async throws -> ControlServer {
        if address.isTCP && token == nil {
            throw ControlServerError("a control listener on TCP requires a token (--control-token-file)")
        }
        let router = ControlRouter(supervision: supervision, token: token, metrics: metrics)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 32)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(ControlRequestHandler(router: router))
                }
            }
        do {
            switch address {
            case .unix(let path):
                try Self.refuseNonSocket(at: path)
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                    .get()
                guard chmod(path, 0o600) == 0 else {
                    try? await channel.close()
                    throw ControlServerError("cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
                }
                return ControlServer(address: address, group: group, channel: channel)
            case .tcp(let listen):
                let channel =
                    try await bootstrap
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: listen.host, port: listen.port)
                    .get()
                let port = channel.localAddress?.port ?? listen.port
                return ControlServer(
                    address: .tcp(ListenAddress(host: listen.host, port: port)),
                    group: group,
                    channel: channel
                )
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// A stale socket is replaced; any other file at the path is left alone and refused.
    private static func refuseNonSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ControlServerError("\(path) exists and is not a socket; refusing to replace it")
        }
    }

    /// The TCP port (useful with port 0); nil on a unix socket.
    public var port: Int? {
        if case .tcp(let listen) = address { return listen.port }
        return nil
    }

    /// Stops listening, removes the socket file, and stops the event loop.
    public func shutdown() async {
        try? await channel.close()
        if case .unix(let path) = address {
            var info = stat()
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
        }
        try? await group.shutdownGracefully()
    }
}

public struct ControlServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
