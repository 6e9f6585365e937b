/// Text as a reader sees it: Unicode spaces (no-break, en to hair, narrow, medium, ideographic)
/// become an ASCII space, and the characters that show nothing (zero-width space, joiners, word
/// joiner, byte-order mark, soft hyphen) are removed. Inbound phrase detectors scan this form too,
/// so `Ignore\u{00A0}all\u{00A0}previous…` or `ig\u{200B}nore` cannot slip past them; the
/// invisible-character detectors keep the text as it came. Pure, byte-level UTF-8.
enum InvisibleText {
    /// `nil` when there is nothing to change.
    static func normalised(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.contains(where: { $0 == 0xC2 || $0 == 0xE2 || $0 == 0xE3 || $0 == 0xEF }) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var changed = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            let third = index + 2 < bytes.count ? bytes[index + 2] : 0
            switch (byte, next, third) {
            case (0xC2, 0xA0, _):  // no-break space
                out.append(0x20); index += 2; changed = true
            case (0xC2, 0xAD, _):  // soft hyphen
                index += 2; changed = true
            case (0xE2, 0x80, 0x80...0x8A), (0xE2, 0x80, 0xAF), (0xE2, 0x81, 0x9F), (0xE3, 0x80, 0x80):  // spaces
                out.append(0x20); index += 3; changed = true
            case (0xE2, 0x80, 0x8B...0x8D), (0xE2, 0x81, 0xA0), (0xEF, 0xBB, 0xBF):  // zero-width, word joiner, BOM
                index += 3; changed = true
            default:
                out.append(byte); index += 1
            }
        }
        return changed ? out : nil
    }
}
