import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the agent's connection closes once this request is answered. After a head asking
    /// for an upgrade NIO's decoder reads no further request: the connection is upgraded or closed,
    /// never reused for HTTP. An HTTP/2 stream carries one request and ends with its response's
    /// end; closing it early would reset it.
    var closesConnectionAfter: Bool {
        guard version.major == 1 else { return false }
        return !isKeepAlive || headers.contains(name: "upgrade")
    }
}
