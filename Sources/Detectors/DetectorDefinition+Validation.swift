#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension DetectorDefinition {
    /// Whether a regex hit whose secret is `secret` (a range of `buffer`) is a real finding.
    func accepts(secret: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = UnsafeBufferPointer(rebasing: buffer[secret])
        if rejectsPlaceholders && Placeholder.matches(bytes) {
            return false
        }
        for validator in validators {
            guard validator.accepts(secret: secret, bytes: bytes, in: buffer) else {
                return false
            }
        }
        return true
    }
}

extension Validator {
    func accepts(secret: Range<Int>, bytes: UnsafeBufferPointer<UInt8>, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .minimumEntropy(let floor):
            return Entropy.shannon(bytes) >= floor
        case .githubChecksum(let prefixLength):
            return GitHubChecksum.isValid(bytes, prefixLength: prefixLength)
        case .nearbyKeyword(let keywords, let before, let after):
            let lower = max(0, secret.lowerBound - before)
            let upper = min(buffer.count, secret.upperBound + after)
            return KeywordSearch.contains(
                keywords,
                in: UnsafeBufferPointer(rebasing: buffer[lower..<secret.lowerBound])
            )
                || KeywordSearch.contains(
                    keywords,
                    in: UnsafeBufferPointer(rebasing: buffer[secret.upperBound..<upper])
                )
        case .jwtHeader:
            return Structure.isJWT(bytes)
        case .pemBody:
            return Structure.isPEMBlockWithBody(bytes)
        case .urlPassword:
            return !Placeholder.isURLPasswordPlaceholder(bytes)
                && !Structure.isDocumentationHost(after: secret.upperBound, in: buffer)
        case .bech32Checksum:
            return Bech32.isValid(bytes)
        case .notPublicValue(let values):
            return !values.contains(Array(bytes))
        case .notEmojiTagSequence:
            return !Structure.isEmojiTagSequence(secret: secret, in: buffer)
        case .utf8Context:
            return Structure.isUTF8Context(around: secret, in: buffer)
        }
    }
}

enum Entropy {
    /// Shannon entropy in bits per byte.
    static func shannon(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        guard !bytes.isEmpty else {
            return 0
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { counts in
            counts.initialize(repeating: 0)
            for byte in bytes {
                counts[Int(byte)] += 1
            }
            let total = Double(bytes.count)
            var entropy = 0.0
            for count in counts where count > 0 {
                let probability = Double(count) / total
                entropy -= probability * log2(probability)
            }
            return entropy
        }
    }
}

enum KeywordSearch {
    /// Whether any keyword occurs in `window`, ASCII case-insensitively.
    static func contains(_ keywords: [Keyword], in window: UnsafeBufferPointer<UInt8>) -> Bool {
        for keyword in keywords where contains(keyword.bytes, in: window) {
            return true
        }
        return false
    }

    static func contains(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else {
            return false
        }
        var start = 0
        while start + needle.count <= haystack.count {
            if ASCII.lowercased(haystack[start]) == first {
                var matched = true
                for offset in 1..<needle.count where ASCII.lowercased(haystack[start + offset]) != needle[offset] {
                    matched = false
                    break
                }
                if matched {
                    return true
                }
            }
            start += 1
        }
        return false
    }
}

/// The placeholder allowlist, applied to the captured secret.
enum Placeholder {
    /// Case-insensitive fragments that mark documentation values, not secrets. All at least
    /// five characters, so that random base62 tokens essentially never contain one.
    static let words: [Keyword] = [
        "example", "sample", "dummy", "changeme", "change_me", "placeholder", "redacted",
        "your_", "your-", "yourtoken", "yourkey", "yoursecret", "<your", "replace_me", "replaceme",
        "insert_", "notreal", "not_real", "not-a-real", "fake_", "fake-", "12345678", "abcdefgh",
        "${", "{{", "}}", "$(", "%(", "<%", "...", "\u{2026}",
    ]

    /// Whether a captured secret looks like a placeholder: a placeholder word, a template
    /// expression, or six or more repetitions of one character.
    static func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if KeywordSearch.contains(words, in: bytes) {
            return true
        }
        var run = 0
        var previous: UInt8? = nil
        for byte in bytes {
            run = byte == previous ? run + 1 : 1
            previous = byte
            if run >= 6 {
                return true
            }
        }
        return false
    }

    private static let urlPasswordWords: Set<[UInt8]> = Set(
        [
            "password", "passwd", "pass", "pwd", "pw", "secret", "token", "changeme", "user", "username",
            "apikey", "api_key", "api-key", "key", "xxx", "xxxx", "***", "****", "...", "redacted",
            "mypassword", "yourpassword", "your_password", "your-password", "test", "foo", "bar",
        ].map { Array($0.utf8) }
    )

    /// Whether a URL user-info password is a template or placeholder: a well-known word, a
    /// `$VAR`/`${...}`/`{{...}}`/`<...>`/`%s` template, masking characters or a single repeated
    /// character.
    static func isURLPasswordPlaceholder(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 3 else {
            return true
        }
        if urlPasswordWords.contains(bytes.map(ASCII.lowercased)) {
            return true
        }
        let first = bytes[0]
        if first == UInt8(ascii: "$") || first == UInt8(ascii: "{") || first == UInt8(ascii: "<")
            || first == UInt8(ascii: "[") || first == UInt8(ascii: "*") || first == UInt8(ascii: "(")
        {
            return true
        }
        // A '%' that does not start a percent-escape is a format directive (`%s`, `%d`, `%v`).
        for index in bytes.indices where bytes[index] == UInt8(ascii: "%") {
            guard index + 2 < bytes.count, ASCII.isHexDigit(bytes[index + 1]), ASCII.isHexDigit(bytes[index + 2])
            else {
                return true
            }
        }
        if bytes.allSatisfy({ $0 == first }) {
            return true
        }
        return matches(bytes)
    }
}

/// Structural checks for formats with a known shape.
enum Structure {
    /// `header.payload.signature` where the header is base64url JSON with an `"alg"` member.
    static func isJWT(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")),
            let header = Base64URL.decode(bytes[..<dot])
        else {
            return false
        }
        let text = header.drop { isJSONSpace($0) }.reversed().drop { isJSONSpace($0) }.reversed()
        guard text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else {
            return false
        }
        return header.withUnsafeBufferPointer { KeywordSearch.contains(Array("\"alg\"".utf8), in: $0) }
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// A `-----BEGIN ... PRIVATE KEY-----` block with at least 64 base64 characters of body
    /// and no `...`/`…` elision (documentation snippets).
    static func isPEMBlockWithBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let dashes = Array("-----".utf8)
        // Skip "-----BEGIN", then find the dashes closing the BEGIN line.
        var index = 10
        var bodyStart: Int? = nil
        while index + 5 <= bytes.count {
            if bytes[index..<(index + 5)].elementsEqual(dashes) {
                bodyStart = index + 5
                break
            }
            index += 1
        }
        guard let bodyStart else {
            return false
        }
        var bodyEnd = bytes.count
        index = bodyStart
        while index + 5 <= bytes.count {
            if bytes[index..<(index + 5)].elementsEqual(dashes) {
                bodyEnd = index
                break
            }
            index += 1
        }
        let body = UnsafeBufferPointer(rebasing: bytes[bodyStart..<bodyEnd])
        if KeywordSearch.contains(["...", "\u{2026}", "<", ">"], in: body) {
            return false
        }
        return body.count { ASCII.isBase64($0) } >= 64
    }

    /// U+1F3F4 WAVING BLACK FLAG followed by 2–6 tag letters or digits and U+E007F CANCEL TAG:
    /// the emoji flags of subdivisions (England, Scotland, Wales), not smuggled text.
    static func isEmojiTagSequence(secret: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        let flag: [UInt8] = [0xF0, 0x9F, 0x8F, 0xB4]
        guard secret.lowerBound >= 4, buffer[(secret.lowerBound - 4)..<secret.lowerBound].elementsEqual(flag),
            secret.count % 4 == 0
        else {
            return false
        }
        let tags = secret.count / 4
        guard (3...7).contains(tags) else {
            return false
        }
        for tag in 0..<tags {
            let base = secret.lowerBound + 4 * tag
            let third = buffer[base + 2]
            let fourth = buffer[base + 3]
            if tag == tags - 1 {
                guard third == 0x81, fourth == 0xBF else {
                    return false
                }
            } else {
                let isLetter = third == 0x81 && (0xA1...0xBA).contains(fourth)
                let isDigit = third == 0x80 && (0xB0...0xB9).contains(fourth)
                guard isLetter || isDigit else {
                    return false
                }
            }
        }
        return true
    }

    /// Whether the host after a URL's user-info (`@` at `at`) is a name reserved for
    /// documentation (RFC 2606, RFC 6761): `example.com`/`.net`/`.org` and their subdomains,
    /// `*.example`, `*.test`, `*.invalid`.
    static func isDocumentationHost(after at: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var host: [UInt8] = []
        var index = at + 1
        while index < buffer.count, host.count < 256 {
            let byte = buffer[index]
            guard ASCII.isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") else {
                break
            }
            host.append(ASCII.lowercased(byte))
            index += 1
        }
        while host.last == UInt8(ascii: ".") {
            host.removeLast()
        }
        let reserved = ["example.com", "example.net", "example.org"]
        for name in reserved {
            let bytes = Array(name.utf8)
            if host == bytes || host.ends(with: [UInt8(ascii: ".")] + bytes) {
                return true
            }
        }
        for suffix in [".example", ".test", ".invalid"] where host.ends(with: Array(suffix.utf8)) {
            return true
        }
        return false
    }

    /// Whether `range` and up to 16 bytes on either side (widened to whole UTF-8 sequences)
    /// decode as valid UTF-8.
    static func isUTF8Context(around range: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = max(0, range.lowerBound - 16)
        var steps = 0
        while start > 0, buffer[start] & 0xC0 == 0x80, steps < 3 {
            start -= 1
            steps += 1
        }
        var end = min(buffer.count, range.upperBound + 16)
        steps = 0
        while end < buffer.count, buffer[end] & 0xC0 == 0x80, steps < 3 {
            end += 1
            steps += 1
        }
        var iterator = buffer[start..<end].makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue:
                continue
            case .emptyInput:
                return true
            case .error:
                return false
            }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
