import NIOCore
import NIOHTTP1
import NIOHTTP2

/// An upstream HTTP/2 connection shared by the exchanges of one event loop to one target: each
/// exchange gets a stream of its own (an ``UpstreamConnection`` the exchange machine holds and
/// releases as it does a pooled HTTP/1.1 connection), so an agent's parallel calls to one API
/// share one connection (README, "Streaming"). Used only on its event loop.
final class UpstreamHTTP2Session {
    let channel: any Channel
    let target: UpstreamTarget
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let connectionHandler: UpstreamHTTP2ConnectionHandler
    private var openStreams = 0
    /// Streams opened so far: a stream on a session that served others may meet a connection the
    /// server has just closed, like a reused HTTP/1.1 connection.
    private var streamsOpened = 0
    /// Closes the connection once it has had no stream for the pool's idle timeout.
    private var idleTimer: CoalescingTimer<Void>?
    private let idleTimeout: TimeAmount

    init(
        channel: any Channel,
        target: UpstreamTarget,
        multiplexer: NIOHTTP2Handler.StreamMultiplexer,
        connectionHandler: UpstreamHTTP2ConnectionHandler,
        idleTimeout: TimeAmount
    ) {
        self.channel = channel
        self.target = target
        self.multiplexer = multiplexer
        self.connectionHandler = connectionHandler
        self.idleTimeout = idleTimeout
        idleTimer = CoalescingTimer(loop: channel.eventLoop) { [weak channel] _ in channel?.close(promise: nil) }
        channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.idleTimer?.stop()
            self.idleTimer = nil
        }
    }

    /// Whether a new exchange may open a stream here.
    var acceptsStreams: Bool { channel.isActive && !connectionHandler.goAwayReceived }

    /// Opens a stream speaking HTTP/1-style parts (NIO's codec), reporting to an ``UpstreamHandler``.
    func openStream(completion: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void) {
        channel.eventLoop.assertInEventLoop()
        let wasReused = streamsOpened > 0
        streamsOpened += 1
        openStreams += 1
        idleTimer?.disarm()
        let isTLS = target.isTLS
        multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: isTLS ? .https : .http))
                let ready = stream.eventLoop.makePromise(of: Void.self)
                try sync.addHandler(UpstreamHandler(ready: ready, waitsForTLS: false))
                ready.succeed()
            }
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let stream):
                stream.closeFuture.assumeIsolated().whenComplete { _ in self.streamClosed() }
                guard let handler = try? stream.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                    stream.close(promise: nil)
                    completion(.failure(.closedEarly(target: self.target.description)))
                    return
                }
                let connection = UpstreamConnection(channel: stream, handler: handler, target: self.target, isHTTP2Stream: true)
                connection.wasReused = wasReused
                completion(.success(connection))
            case .failure:
                self.streamClosed()
                completion(.failure(.closedEarly(target: self.target.description)))
            }
        }
    }

    private func streamClosed() {
        openStreams -= 1
        guard openStreams == 0 else { return }
        if connectionHandler.goAwayReceived {
            channel.close(promise: nil)
        } else {
            idleTimer?.arm((), in: idleTimeout)
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamHTTP2Session: Sendable {}
