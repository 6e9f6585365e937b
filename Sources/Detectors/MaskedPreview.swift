/// A preview of a secret for the operator: the first and last few characters around an
/// ellipsis (`ghp_…T4V4`), never more than a third of the secret. Short secrets are fully
/// masked. Bytes that are not printable ASCII show as `?`.
public enum MaskedPreview {
    /// Characters shown at each end at most.
    public static let maximumShownPerSide = 4
    /// Secrets shorter than this are fully masked.
    public static let minimumLengthShown = 12

    public static func of<C: Collection<UInt8>>(_ secret: C) -> String {
        let count = secret.count
        // Two sides of `shown` characters each stay within a third of the secret.
        let shown = count < minimumLengthShown ? 0 : min(maximumShownPerSide, count / 6)
        guard shown > 0 else {
            return String(repeating: "*", count: min(max(count, 1), 8))
        }
        let head = secret.prefix(shown)
        let tail = secret.suffix(shown)
        return printable(head) + "\u{2026}" + printable(tail)
    }

    private static func printable<C: Collection<UInt8>>(_ bytes: C) -> String {
        String(
            decoding: bytes.map { $0 >= 0x21 && $0 <= 0x7E ? $0 : UInt8(ascii: "?") },
            as: UTF8.self
        )
    }
}
