import NIOHTTP1

/// RFC 9110 §7.6.1: headers that describe one connection and must not be forwarded to the next.
enum HopByHopHeaders {
    static let standard: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes the standard hop-by-hop headers and any header the `Connection` header names.
    /// `Proxy-Authorization` is among them, so it never reaches an upstream.
    static func strip(_ headers: inout HTTPHeaders) {
        var named = standard
        for value in headers[canonicalForm: "connection"] {
            named.insert(value.lowercased().trimmingASCIISpaces())
        }
        headers = HTTPHeaders(headers.filter { !named.contains($0.name.lowercased()) })
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
