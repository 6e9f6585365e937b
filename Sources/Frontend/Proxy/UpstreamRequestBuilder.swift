import EgressRoutes
import NIOHTTP1

/// Turns an allowed agent request head into the head sent upstream: hop-by-hop headers and
/// `Proxy-Authorization` removed, `Host` set to the routed host, framing made explicit,
/// credentials injected.
enum UpstreamRequestBuilder {
    static func head(
        from client: HTTPRequestHead,
        originForm: String,
        target: UpstreamTarget,
        credential: Credential?
    ) -> HTTPRequestHead {
        var headers = client.headers
        // Screened before routing; should a head get here unscreened, it goes up with no body at
        // all and its body parts are refused (ProxyRequestHandler.sendUpstream).
        let framing = RequestBodyFraming(client) ?? .noBody
        // The one `TE` value a proxy that relays trailers may pass on; gRPC servers require it.
        let acceptsTrailers = client.headers[canonicalForm: "te"].contains { $0.lowercased() == "trailers" }
        HopByHopHeaders.strip(&headers)
        // The proxy answers `Expect: 100-continue` itself as soon as the route allows the request.
        headers.remove(name: "expect")
        headers.remove(name: "host")
        // Inside a tunnel the agent could name another virtual host than the one routed on.
        var upstream = HTTPHeaders([("host", target.hostHeader)])
        upstream.add(contentsOf: headers)
        framing.apply(to: &upstream)
        // HTTP/2 may split Cookie into several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
        let cookies = upstream["cookie"]
        if cookies.count > 1 { upstream.replaceOrAdd(name: "cookie", value: cookies.joined(separator: "; ")) }
        if acceptsTrailers { upstream.add(name: "te", value: "trailers") }
        credential?.inject(into: &upstream)
        return HTTPRequestHead(version: .http1_1, method: client.method, uri: originForm, headers: upstream)
    }

    /// Whether the request may be sent again after a reused connection failed before any response
    /// byte: RFC 9110 §9.2.2 lets a proxy retry only idempotent methods, and a client that sends an
    /// `Idempotency-Key` says repeating it is safe (what LLM and payment APIs' clients send).
    static func mayRetry(_ head: HTTPRequestHead) -> Bool {
        switch head.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE: return true
        default:
            return head.headers.contains(name: "idempotency-key") || head.headers.contains(name: "x-idempotency-key")
        }
    }

    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
    }
}
