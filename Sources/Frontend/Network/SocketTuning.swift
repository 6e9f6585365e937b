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

    /// Sets `TCP_NODELAY` (level `IPPROTO_TCP`) on a connected TCP channel.
    func apply(to channel: any Channel) {
        guard let options = channel.syncOptions else { return }
        do {
            try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
        } catch {
            reportOnce(option: "TCP_NODELAY", error: error)
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
