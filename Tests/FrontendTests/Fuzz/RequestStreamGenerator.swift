import EgressTestSupport

/// Hostile request byte streams for the differential fuzz test: several requests on one
/// connection, built from the framing tricks an agent would try, then mutated byte-wise. Every
/// generated request carries a unique id in its path, so what the upstream parsed can be traced
/// back to what the proxy decided.
struct RequestStreamGenerator {
    var random: SeededGenerator
    private var nextID = 0

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[Int.random(in: 0..<choices.count, using: &random)] }
    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    private mutating func id(_ label: String) -> String {
        nextID += 1
        return "\(label)\(nextID)"
    }

    /// One connection's bytes: 1–6 requests, sometimes mutated. Inside a tunnel targets are
    /// mostly origin-form, as clients send them there.
    mutating func stream(case index: Int, tunnel: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            bytes += Array(request(case: index, tunnel: tunnel).utf8)
        }
        if chance(35) { mutate(&bytes) }
        return bytes
    }

    private mutating func request(case index: Int, tunnel: Bool) -> String {
        let method = pick(["GET", "GET", "POST", "POST", "PUT", "TRACE", "DELETE", "HEAD", "OPTIONS", "G3T", "post"])
        let path =
            chance(60) ? "/ok/c\(index)-\(id("r"))" : pick(["/forbidden/c\(index)-\(id("f"))", "/ok/../admin/\(id("d"))",
                "/ok/..;/admin/\(id("p"))", "/ok/%2e%2e/admin/\(id("e"))"])
        let host = chance(85) ? "api.test" : pick(["evil.test", "api.test:8080", "127.0.0.1", "api.test.", "API.TEST"])
        let target =
            tunnel
            ? (chance(85) ? path : pick(["https://\(host)\(path)", "http://\(host)\(path)", "*", "//\(host)\(path)"]))
            : (chance(90) ? "http://\(host)\(path)" : pick([path, "*", "http://\(host)", "//\(host)\(path)"]))
        let version = chance(92) ? "HTTP/1.1" : pick(["HTTP/1.0", "HTTP/2.0", "HTTP/1.1 ", "HTTX/1.1"])
        var headers: [String] = []
        if chance(90) { headers.append("Host: \(host)") }
        // The body may carry a whole request: if it is ever parsed upstream as one, that is smuggling.
        let smuggled = "GET /ok/smuggled-\(id("s")) HTTP/1.1\r\nHost: api.test\r\n\r\n"
        let body: String = chance(50) ? "" : pick([smuggled, "hello", String(repeating: "x", count: 300), "a=1&b=2"])
        var framed = ""
        switch Int.random(in: 0..<10, using: &random) {
        case 0...3:
            if !body.isEmpty || chance(30) { headers.append("Content-Length: \(body.utf8.count)") }
            framed = body
        case 4...5:
            headers.append(pick(["Transfer-Encoding: chunked", "Transfer-Encoding: Chunked", "transfer-encoding:chunked"]))
            framed = body.isEmpty ? "0\r\n\r\n" : "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        case 6:
            headers.append("Content-Length: \(body.utf8.count)")
            headers.append("Transfer-Encoding: chunked")
            framed = body
        case 7:
            headers.append(pick(["Content-Length: \(body.utf8.count + 5)", "Content-Length: 0", "Content-Length: -1",
                "Content-Length: 9999999999999999999999", "Content-Length: 1, 2", "Content-Length: 0x10"]))
            framed = body
        case 8:
            headers.append("Content-Length: \(body.utf8.count)")
            headers.append("Content-Length: \(body.utf8.count + 1)")
            framed = body
        default:
            headers.append(pick(["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: chunked, gzip",
                "Transfer-Encoding: identity"]))
            framed = body
        }
        if chance(30) {
            headers.append(pick(["Connection: content-length", "Connection: transfer-encoding", "Connection: host",
                "Connection: close", "Connection: keep-alive, content-length", "Connection: te, Content-Length"]))
        }
        if chance(10) { headers.append("Expect: 100-continue") }
        if chance(10) { headers.append(pick(["X-A: b\u{0}c", "Bad Header: x", "X-Long: \(String(repeating: "y", count: 3000))"])) }
        if chance(10) { headers.shuffle(using: &random) }
        return "\(method) \(target) \(version)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n" + framed
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes.insert(pick(Array("\r\n :;0aZ\u{0}".utf8)), at: at)
            case 2: bytes.remove(at: at)
            default: bytes.insert(contentsOf: Array("\r\n".utf8), at: at)
            }
            if bytes.isEmpty { return }
        }
    }
}
