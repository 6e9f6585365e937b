/// A request-target split for matching: the path (query removed, still percent-encoded, which is what
/// `paths` entries are compared with) and what the server will make of it once decoded.
///
/// Path parameters (`;…` in a segment, RFC 3986 §3.3) are cut from every segment before anything is
/// judged: servlet-style servers drop them, so `/repos/..;/admin` is `/repos/../admin` there, and
/// `/r.git/git-receive-pack;x` is a push.
struct RequestTarget {
    /// Everything before the first `?`, with each segment's `;` parameters removed.
    let path: String
    /// Everything after the first `?`, or `nil` when there is none.
    let query: String?
    /// `path` with `%XX` escapes decoded once, as the server will decode it, and parameters cut
    /// again (an encoded `%3B` is a separator once decoded, for servers that decode first).
    let decodedPath: String

    init(_ target: String) {
        let rawPath: Substring
        if let mark = target.firstIndex(of: "?") {
            rawPath = target[..<mark]
            query = String(target[target.index(after: mark)...])
        } else {
            rawPath = target[...]
            query = nil
        }
        path = Self.withoutParameters(rawPath)
        decodedPath = Self.withoutParameters(Self.percentDecoded(path)[...])
    }

    private static func withoutParameters(_ path: Substring) -> String {
        guard path.utf8.contains(UInt8(ascii: ";")) else { return String(path) }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.prefix { $0 != ";" } }
            .joined(separator: "/")
    }

    /// Whether the decoded path has a `.` or `..` segment (segments split on `/` and `\`). Servers
    /// normalise these away, so `/allowed/../secret` would escape a prefix allowlist.
    var hasDotSegments: Bool {
        decodedPath.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" })
            .contains { $0 == "." || $0 == ".." }
    }

    /// Decoded values of every query parameter called `name` (`+` read as a space, as form decoding does).
    func queryValues(named name: String) -> [String] {
        guard let query else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.percentDecoded(parts[0].replacing("+", with: " "))
            guard key == name else { return nil }
            return parts.count > 1 ? Self.percentDecoded(parts[1].replacing("+", with: " ")) : ""
        }
    }

    /// Decodes `%XX` escapes; malformed escapes stay as they are, invalid UTF-8 becomes U+FFFD.
    static func percentDecoded<S: StringProtocol>(_ text: S) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
