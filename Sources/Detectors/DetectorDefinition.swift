/// One named detector: what it looks for, which way it applies, and how a raw regex hit is
/// confirmed before it becomes a ``Finding``.
///
/// The public surface is what the rest of the proxy needs (ids for configuration, labels for
/// reasons, a summary for documentation). Matching details stay inside the package.
public struct DetectorDefinition: Sendable {
    /// Stable snake_case id, used in `routes.yaml`, on the wire and in `[REDACTED:<id>]`.
    public let id: String
    /// Human label used in reasons, e.g. "GitHub token (classic)".
    public let label: String
    /// Outbound detectors look for secrets; inbound ones for prompt injection.
    public let direction: ScanDirection
    /// One line: what the detector matches (for the README table).
    public let summary: String
    /// Inbound detectors only: how strongly a finding suggests an attack.
    public let severity: InjectionSeverity?

    /// PCRE2 source, compiled without UTF mode: the pattern sees raw bytes.
    package let pattern: String
    /// Prefilter: the detector's regex only runs if, for every group, at least one of the
    /// group's keywords occurs in the buffer (ASCII case-insensitive). Every keyword group must
    /// be a necessary condition of a match, or the prefilter would hide real hits.
    package let keywordGroups: [[Keyword]]
    /// The capture group that is "the secret" (0 = the whole match).
    package let secretGroup: Int
    /// Checks run on each regex hit; all must pass.
    package let validators: [Validator]
    /// Reject hits whose secret looks like a placeholder (`EXAMPLE`, `${VAR}`, `xxxxxx`, ...).
    package let rejectsPlaceholders: Bool
    /// If set, every match of `pattern` begins exactly where a keyword of this group begins.
    /// The regex then runs anchored at those keyword positions only, instead of over the
    /// whole buffer: the way to keep phrase detectors with common first words fast.
    package let anchorGroup: Int?

    package init(
        id: String,
        label: String,
        direction: ScanDirection,
        summary: String,
        pattern: String,
        keywords: [[Keyword]] = [],
        secretGroup: Int = 0,
        validators: [Validator] = [],
        rejectsPlaceholders: Bool? = nil,
        anchorGroup: Int? = nil,
        severity: InjectionSeverity? = nil
    ) {
        self.id = id
        self.label = label
        self.direction = direction
        self.summary = summary
        self.pattern = pattern
        self.keywordGroups = keywords
        self.secretGroup = secretGroup
        self.validators = validators
        self.rejectsPlaceholders = rejectsPlaceholders ?? (direction == .outbound)
        self.anchorGroup = anchorGroup
        self.severity = direction == .inbound ? (severity ?? .medium) : nil
    }
}

/// A prefilter keyword: bytes compared ASCII case-insensitively. Written as a string literal
/// for text, or as raw bytes for UTF-8 fragments that are not whole characters.
package struct Keyword: Sendable, Hashable, ExpressibleByStringLiteral {
    /// Lower-cased (ASCII) bytes.
    package let bytes: [UInt8]

    package init(stringLiteral value: String) {
        self.init(bytes: Array(value.utf8))
    }

    package init(bytes: [UInt8]) {
        precondition(!bytes.isEmpty, "empty prefilter keyword")
        self.bytes = bytes.map(ASCII.lowercased)
    }
}

/// Checks that confirm a regex hit. Each sees the whole buffer and the secret's byte range.
package enum Validator: Sendable {
    /// Shannon entropy of the secret, in bits per byte, must be at least this.
    case minimumEntropy(Double)
    /// GitHub's checksum: the last 6 characters are the base62 CRC32 of the 30 characters
    /// after a `prefixLength`-byte prefix.
    case githubChecksum(prefixLength: Int)
    /// At least one keyword (ASCII case-insensitive) within `before` bytes before the secret
    /// or `after` bytes after it.
    case nearbyKeyword([Keyword], before: Int, after: Int)
    /// The secret is a JWT whose header segment decodes to a JSON object naming an `alg`.
    case jwtHeader
    /// The secret is a PEM private key block with a real body (at least 64 base64 characters,
    /// no `...` elision).
    case pemBody
    /// The secret is the password of a URL's user-info, is not a template or placeholder, and
    /// the host is not a reserved documentation domain (`example.com`, `*.test`, ...).
    case urlPassword
    /// The secret is a bech32 string with a valid checksum (age keys).
    case bech32Checksum
    /// The secret is none of these publicly documented values (emulator keys and the like).
    case notPublicValue(Set<[UInt8]>)
    /// Not an emoji subdivision flag (U+1F3F4 followed by tag letters and a cancel tag).
    case notEmojiTagSequence
    /// The match and up to 16 bytes on either side are valid UTF-8: text, not binary data
    /// that happens to contain the bytes of an invisible character.
    case utf8Context
}

/// ASCII helpers shared by the prefilter and the validators.
enum ASCII {
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    @inline(__always)
    static func uppercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x61 < 26 ? byte & 0xDF : byte
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10 || (byte | 0x20) &- 0x61 < 26
    }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10 || (byte | 0x20) &- 0x61 < 6
    }

    @inline(__always)
    static func isBase64(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }
}
