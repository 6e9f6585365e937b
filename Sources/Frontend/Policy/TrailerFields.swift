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

    /// `nil` when nothing is left.
    static func forwardable(_ trailers: HTTPHeaders) -> HTTPHeaders? {
        var kept = trailers
        HopByHopHeaders.strip(&kept)
        let doomed = kept.map(\.name).filter { notAllowed.contains($0.lowercased()) }
        for name in doomed { kept.remove(name: name) }
        return kept.isEmpty ? nil : kept
    }
}
