import NIOHTTP1

/// Which trailer fields are passed on. RFC 9110 §6.5.1: fields that frame or route the message,
/// authenticate, or describe the content must be in the header section, where the proxy judged
/// them; in trailers they could only confuse the receiver (a second length, a second credential
/// behind the injected one), so they are dropped, with the hop-by-hop ones.
enum TrailerFields {
    static let notAllowed: Set<String> = [
        "content-length", "transfer-encoding", "host", "authorization", "proxy-authorization",
        "www-authenticate", "proxy-authenticate", "x-api-key", "cookie", "set-cookie",
        "content-type", "content-encoding", "content-range", "trailer", "te", "expect",
    ]

    /// gRPC's "Trailers-Only" answer (an immediate error) carries its status in the head of a
    /// response that ends with the head. Relayed through the HTTP/1-style parts, that end would
    /// reach an HTTP/2 agent as an empty DATA frame, and gRPC clients would miss the trailers: the
    /// status fields move from the head to the trailers, which every gRPC client accepts.
    /// Only for an HTTP/2 agent (gRPC runs on HTTP/2; an HTTP/1.1 body with a length could not
    /// carry trailers) and `application/grpc` or `application/grpc+…` (grpc-web reads its status
    /// from the body or the head, not from trailers).
    static func liftTrailersOnlyStatus(from headers: inout HTTPHeaders) -> HTTPHeaders? {
        guard headers.contains(name: "grpc-status"),
            headers["content-type"].contains(where: {
                let type = $0.lowercased().prefix { $0 != ";" }.trimmingASCIISpaces()
                return type == "application/grpc" || type.hasPrefix("application/grpc+")
            })
        else { return nil }
        var status = HTTPHeaders()
        for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
            for value in headers[name] { status.add(name: name, value: value) }
            headers.remove(name: name)
        }
        return status
    }

    /// `nil` when nothing is left.
    static func forwardable(_ trailers: HTTPHeaders) -> HTTPHeaders? {
        var kept = trailers
        HopByHopHeaders.strip(&kept)
        let doomed = kept.map(\.name).filter { notAllowed.contains($0.lowercased()) }
        for name in doomed { kept.remove(name: name) }
        return kept.isEmpty ? nil : kept
    }
}
