import Detectors

/// Base64 as a part that declares it must be written: the standard alphabet, whitespace anywhere,
/// `=` padding only at the end. Decoders differ on everything else (Python drops `-` and `_` and
/// skips a stray `=`, others read them as base64url or stop), so anything else is not decoded one
/// way for DLP and another by the server: it is refused.
enum StrictBase64 {
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var characters: [UInt8] = []
        characters.reserveCapacity(text.count)
        var padding = 0
        for byte in text {
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A:
                continue
            case UInt8(ascii: "="):
                padding += 1
            case UInt8(ascii: "-"), UInt8(ascii: "_"):
                return nil
            default:
                guard padding == 0, Base64URL.isAlphabet(byte) else { return nil }
                characters.append(byte)
            }
        }
        let remainder = characters.count % 4
        guard padding <= 2, remainder != 1 else { return nil }
        // Padding, when present, completes the last group exactly.
        guard padding == 0 || (remainder + padding) % 4 == 0, padding == 0 || remainder != 0 else { return nil }
        return Base64URL.decode(characters)
    }
}
