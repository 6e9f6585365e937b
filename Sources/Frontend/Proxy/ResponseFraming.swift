import NIOHTTP1

/// Rewrites an upstream response head for the agent's connection. The client-side encoder runs
/// with automatic framing off, so framing is decided here, where the request method is known.
enum ResponseFraming {
    /// - Returns: the head to send, and whether the agent's connection must close after the body
    ///   (an HTTP/1.0 agent receiving a body of unknown length). An HTTP/2 stream frames its body
    ///   itself (its end is the stream's end): it gets no framing header but a length it can check.
    static func clientHead(
        from upstream: HTTPResponseHead,
        requestMethod: HTTPMethod,
        clientVersion: HTTPVersion
    ) -> (head: HTTPResponseHead, closeAfter: Bool) {
        var headers = upstream.headers
        let upstreamLength = headers.first(name: "content-length")
        HopByHopHeaders.strip(&headers)
        if clientVersion.major == 2 {
            return (HTTPResponseHead(version: clientVersion, status: upstream.status, headers: headers), false)
        }
        let version: HTTPVersion = clientVersion.minor == 0 ? .http1_0 : .http1_1
        let hasNoBody =
            requestMethod == .HEAD || upstream.status.code / 100 == 1 || upstream.status.code == 204
            || upstream.status.code == 304
        var closeAfter = false
        if hasNoBody {
            // Keep content-length: for HEAD and 304 it describes the representation, not this message.
        } else if upstreamLength != nil {
            // content-length survives the strip: it is end-to-end.
        } else if version == .http1_1 {
            headers.add(name: "transfer-encoding", value: "chunked")
        } else {
            closeAfter = true
        }
        return (HTTPResponseHead(version: version, status: upstream.status, headers: headers), closeAfter)
    }
}
