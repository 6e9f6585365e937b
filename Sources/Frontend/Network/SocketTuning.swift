import NIOConcurrencyHelpers
import NIOCore

/// Per-connection socket options for agent and upstream sockets. A failure to set one costs
/// latency, never the connection: it is reported once per process as an `egress_socket_option`
/// event and the connection goes on without it.
///
/// Options are set here rather than through `childChannelOption` / `channelOption`, because NIO
/// closes a channel whose bootstrap option fails — which is how a mis-levelled option once reset
/// every connection of an unprivileged proxy (docs/ARCHITECTURE.md, "Running unprivileged").
final class SocketTuning: Sendable {
    private let events: EventLog
    private let reported = NIOLockedValueBox(false)

    init(events: EventLog) {
        self.events = events
    }

    /// Reads of up to this many bytes, at most `readsPerEvent` per readable event: a relayed
    /// download moves in fewer, larger reads (a 200 MiB one went from about 470 to 550–620 MB/s
    /// here), and what a connection can read ahead of back-pressure stays 512 KiB (NIO's default
    /// is four reads of 64 KiB).
    static let maximumReadSize = 256 << 10
    static let readsPerEvent = 2
    /// A relay pauses the sending side when this much waits for the receiving one (and resumes
    /// below the low mark): room for several TLS records in flight.
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 128 << 10, high: 512 << 10)

    /// Sets `TCP_NODELAY` (level `IPPROTO_TCP`) on a connected TCP channel, and the read size and
    /// write-buffer marks of a relay.
    func apply(to channel: any Channel) {
        guard let options = channel.syncOptions else { return }
        set(.tcpOption(.tcp_nodelay), 1, named: "TCP_NODELAY", on: options)
        set(
            .recvAllocator,
            AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maximumReadSize),
            named: "recvAllocator",
            on: options
        )
        set(.maxMessagesPerRead, UInt(Self.readsPerEvent), named: "maxMessagesPerRead", on: options)
        set(.writeBufferWaterMark, Self.writeBufferWaterMark, named: "writeBufferWaterMark", on: options)
    }

    private func set<Option: ChannelOption>(
        _ option: Option,
        _ value: Option.Value,
        named name: String,
        on options: some NIOSynchronousChannelOptions
    ) {
        do {
            try options.setOption(option, value: value)
        } catch {
            reportOnce(option: name, error: error)
        }
    }

    private func reportOnce(option: String, error: any Error) {
        let first = reported.withLockedValue { reported in
            defer { reported = true }
            return !reported
        }
        guard first else { return }
        events.emit(.socketOption(option: option, error: "\(error)"), minimum: .blocks)
    }
}
