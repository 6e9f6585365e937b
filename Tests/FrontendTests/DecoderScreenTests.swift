import Testing

@testable import Frontend

/// The one-pass screen in front of the decoders may skip a decoder only where it would have found
/// nothing: a screen that skipped one wrongly would let encoded text pass unscanned.
@Suite("decoder screen")
struct DecoderScreenTests {
    /// Bytes every decoder reacts to, and some none does.
    static let alphabet = Array("Ab09+/-_=%\\\r\n \tfFxu\"{}".utf8)

    /// Random segments of such bytes, with long runs of each alphabet mixed in so that every
    /// decoder has something to find in many of them.
    static func segments(count: Int) -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        let runs: [[UInt8]] = [
            Array("Z2hwX003SDRqeFVERFdIUDRrWjZBNGR4bFFZc1FJV0p1cTExVDRWNA==".utf8),
            Array("6768705f4d3748346a78554444574850346b5a36".utf8),
            Array("%67%68%70".utf8),
            Array("\\u0067\\n".utf8),
            Array("QUJD\r\nREVG\n  R0hJ".utf8),
        ]
        return (0..<count).map { _ in
            var segment: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                if Bool.random(using: &generator) {
                    segment += runs.randomElement(using: &generator)!
                } else {
                    for _ in 0..<Int.random(in: 1...30, using: &generator) {
                        segment.append(alphabet.randomElement(using: &generator)!)
                    }
                }
            }
            return segment
        }
    }

    @Test func neverRulesOutADecoderThatFindsSomething() {
        var found = (percent: 0, form: 0, json: 0, base64: 0, hex: 0)
        for segment in Self.segments(count: 20_000) {
            let screen = DecoderScreen(segment)
            if PercentDecoding.decode(segment, plusIsSpace: false) != nil {
                found.percent += 1
                #expect(screen.mayPercentDecode(plusIsSpace: false), "\(segment)")
            }
            if PercentDecoding.decode(segment, plusIsSpace: true) != nil {
                found.form += 1
                #expect(screen.mayPercentDecode(plusIsSpace: true), "\(segment)")
            }
            if JSONUnescaping.decode(segment) != nil {
                found.json += 1
                #expect(screen.hasBackslash, "\(segment)")
            }
            if Base64Runs.decode(segment) != nil {
                found.base64 += 1
                #expect(screen.mayHoldBase64Run, "\(segment)")
            }
            if HexRuns.decode(segment) != nil {
                found.hex += 1
                #expect(screen.hasLongHexRun, "\(segment)")
            }
        }
        // The property is only worth something if every decoder fired often.
        for count in [found.percent, found.form, found.json, found.base64, found.hex] {
            #expect(count > 500)
        }
    }

    @Test func plainTextRulesOutEveryDecoder() {
        let screen = DecoderScreen(Array("lorem ipsum dolor sit amet, consectetur adipiscing elit".utf8))
        #expect(!screen.mayPercentDecode(plusIsSpace: true))
        #expect(!screen.hasBackslash)
        #expect(!screen.mayHoldBase64Run)
        #expect(!screen.hasLongHexRun)
    }

    @Test func wrappedBase64StartingWithAShortLineIsKept() {
        // A 4-character first line, continued below: too short alone, but a run nonetheless.
        let wrapped = Array("QUJD\nREVGR0hJSktMTU5PUFFSU1RVVldYWVo=".utf8)
        #expect(DecoderScreen(wrapped).mayHoldBase64Run)
        #expect(!DecoderScreen(Array("QUJD REVG".utf8)).mayHoldBase64Run)
    }
}
