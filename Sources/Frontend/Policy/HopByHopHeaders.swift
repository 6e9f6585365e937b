import NIOHTTP1

/// RFC 9110 §7.6.1: headers that describe one connection and must not be forwarded to the next.
enum HopByHopHeaders {
    static let standard: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Headers a `Connection` header can never remove: message framing, the routed host, and what
    /// DLP decoded the body by. Naming them in `Connection` is a request-smuggling trick (the body
    /// would go upstream unframed and be parsed as a request nobody judged), so it is ignored.
    /// Framing itself is rebuilt by ``UpstreamRequestBuilder`` and ``ResponseFraming``.
    static let endToEnd: Set<String> = [
        "content-length", "transfer-encoding", "host", "content-encoding", "content-type",
    ]

    /// Removes the standard hop-by-hop headers and any header the `Connection` header names, except
    /// the ``endToEnd`` ones. `Proxy-Authorization` is among the standard ones, so it never reaches
    /// an upstream. `transfer-encoding` is standard too: callers re-frame the message.
    static func strip(_ headers: inout HTTPHeaders) {
        var named: Set<String> = []
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased().trimmingASCIISpaces()
            if !endToEnd.contains(name) { named.insert(name) }
        }
        // Most heads carry none: they are left as they are, not rebuilt.
        var doomed: [String] = []
        for header in headers {
            let name = header.name.lowercased()
            if standard.contains(name) || named.contains(name) { doomed.append(header.name) }
        }
        for name in doomed { headers.remove(name: name) }
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
