/// Caps on what agents can make the proxy hold (`--max-connections`, `--max-held-bytes`,
/// `--max-held-requests`). Each refusal is a clear status and reason, never unbounded growth.
public struct ProxyLimits: Sendable, Equatable {
    /// Concurrent agent connections; one more is answered 503 and closed.
    public var maxConnections = 1024
    /// Bytes held at once for DLP and supervise, across all connections (bodies kept whole for a
    /// scan, inbound copies, held requests); a request that would go over gets 503 `egress: busy`.
    public var maxHeldBytes = 256 << 20
    /// Requests waiting for an operator at once; one more gets 503.
    public var maxHeldRequests = 64

    public init() {}
}
