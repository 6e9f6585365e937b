import Detectors

/// Which decoders can find anything in a segment, from one pass over its bytes: most segments
/// (header names and values, prose, code) hold nothing any decoder undoes, and each decoder's own
/// search would be one more pass over every byte of every body. Conservative: a decoder it rules
/// out would have returned nothing.
struct DecoderScreen {
    /// A `%` (percent escapes).
    private(set) var hasPercent = false
    /// A `+` (a space in form encoding).
    private(set) var hasPlus = false
    /// A `\` (JSON escapes).
    private(set) var hasBackslash = false
    /// A run of base64 characters long enough to decode, or a line of whole 4-character groups
    /// ending at a line break, which wrapped base64 continues below (``Base64Runs``).
    private(set) var mayHoldBase64Run = false
    /// A run of hex digits long enough to decode (``HexRuns``).
    private(set) var hasLongHexRun = false

    private static let base64Class: UInt8 = 1 << 0
    private static let hexClass: UInt8 = 1 << 1
    private static let lineBreakClass: UInt8 = 1 << 2
    private static let percentClass: UInt8 = 1 << 3
    private static let plusClass: UInt8 = 1 << 4
    private static let backslashClass: UInt8 = 1 << 5

    private static let classes: [UInt8] = (0...255).map { value in
        let byte = UInt8(value)
        var classes: UInt8 = 0
        if Base64URL.isAlphabet(byte) { classes |= base64Class }
        if PercentDecoding.hexValue(byte) != nil { classes |= hexClass }
        if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { classes |= lineBreakClass }
        if byte == UInt8(ascii: "%") { classes |= percentClass }
        if byte == UInt8(ascii: "+") { classes |= plusClass }
        if byte == UInt8(ascii: "\\") { classes |= backslashClass }
        return classes
    }

    init(_ source: [UInt8]) {
        // Branch-free per byte (masks, not ifs): run lengths reset by a mask, their maxima kept,
        // so text of short words costs no mispredicted branch at every word's end.
        var seen: UInt8 = 0
        var base64Run = 0
        var longestBase64Run = 0
        var hexRun = 0
        var longestHexRun = 0
        var wrappedLine = 0
        Self.classes.withUnsafeBufferPointer { classes in
            source.withUnsafeBufferPointer { bytes in
                for byte in bytes {
                    let kind = classes[Int(byte)]
                    seen |= kind
                    // A line break after a line of whole 4-character groups (the run before it).
                    let isLineBreak = Int((kind & Self.lineBreakClass) >> 2)
                    wrappedLine |= isLineBreak & (base64Run & 3 == 0 ? 1 : 0) & (base64Run != 0 ? 1 : 0)
                    base64Run = (base64Run &+ 1) & (0 &- Int(kind & Self.base64Class))
                    longestBase64Run = max(longestBase64Run, base64Run)
                    hexRun = (hexRun &+ 1) & (0 &- Int((kind & Self.hexClass) >> 1))
                    longestHexRun = max(longestHexRun, hexRun)
                }
            }
        }
        hasPercent = seen & Self.percentClass != 0
        hasPlus = seen & Self.plusClass != 0
        hasBackslash = seen & Self.backslashClass != 0
        mayHoldBase64Run = longestBase64Run >= Base64Runs.minimumRunLength || wrappedLine != 0
        hasLongHexRun = longestHexRun >= HexRuns.minimumRunLength
    }

    func mayPercentDecode(plusIsSpace: Bool) -> Bool { hasPercent || (plusIsSpace && hasPlus) }
}
