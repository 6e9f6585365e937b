/// Comparisons of protocol tokens (header names, media types) in any ASCII case, on their bytes:
/// `lowercased()` allocates a string, and folds non-ASCII letters a parser would not fold.
enum ASCIICase {
    /// Whether `bytes` begins with `lowercasePrefix` (already lowercase ASCII), in any case.
    static func hasPrefix<Bytes: Collection<UInt8>>(_ bytes: Bytes, lowercased lowercasePrefix: some Collection<UInt8>) -> Bool {
        var remaining = bytes[...]
        for expected in lowercasePrefix {
            guard let byte = remaining.popFirst(), lowered(byte) == expected else { return false }
        }
        return true
    }

    /// Whether `bytes` are `lowercase` (already lowercase ASCII), in any case.
    static func equals(_ bytes: some Collection<UInt8>, lowercased lowercase: some Collection<UInt8>) -> Bool {
        bytes.count == lowercase.count && hasPrefix(bytes, lowercased: lowercase)
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
