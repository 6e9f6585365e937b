import NIOHTTP1

/// Checks on an agent's request head before it is routed: what the proxy never forwards, whatever
/// the route table says. Pure; see docs/ARCHITECTURE.md ("Framing").
enum RequestScreening {
    static func refusal(for head: HTTPRequestHead) -> Refusal? {
        let method = head.method.rawValue.uppercased()
        // TRACE echoes the request back, injected credential included.
        if method == "TRACE" || method == "TRACK" {
            return Refusal(.methodNotAllowed, "egress: \(method) is not allowed", outcome: .blocked)
        }
        let codings = head.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased().trimmingASCIISpaces() }
        let lengths = head.headers[canonicalForm: "content-length"].map { $0.trimmingASCIISpaces() }
        if !codings.isEmpty {
            // Only chunked is decoded; any other coding would reach the upstream re-framed and changed.
            if let other = codings.first(where: { $0 != "chunked" }) ?? (codings.count > 1 ? "chunked" : nil) {
                return Refusal(.notImplemented, "egress: unsupported transfer-encoding: \(other.prefix(40))")
            }
            if !lengths.isEmpty {
                return Refusal(.badRequest, "egress: both content-length and transfer-encoding")
            }
        }
        if lengths.contains(where: { $0 != lengths[0] }) {
            return Refusal(.badRequest, "egress: conflicting content-length values")
        }
        if let length = lengths.first, RequestBodyFraming.length(length) == nil {
            return Refusal(.badRequest, "egress: malformed content-length")
        }
        return nil
    }
}
