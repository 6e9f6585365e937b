import EgressTestSupport
import IPC
import Testing

@testable import Frontend

/// Encodings a server would undo are undone for DLP, and findings map back to what was sent.
@Suite("decoded views")
struct DecodedViewsTests {
    static let token = "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"

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The views of `text`, as strings.
    static func views(_ text: String, form: Bool = false) throws -> [String] {
        try DecodedViews(raw: [bytes(text)], syntax: form ? [0: .form] : [:]).segments.dropFirst().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Where `needle` sits in the first view that contains it, mapped back to the raw text.
    static func rawSpan(of needle: String, in text: String, form: Bool = false) throws -> String? {
        let views = try DecodedViews(raw: [bytes(text)], syntax: form ? [0: .form] : [:])
        for (index, segment) in views.segments.enumerated().dropFirst() {
            guard let range = segment.firstRange(of: bytes(needle)) else { continue }
            let finding = WireFinding(detectorID: "t", segment: UInt32(index), start: UInt64(range.lowerBound), end: UInt64(range.upperBound))
            guard let raw = views.rawFindings([finding]).first else { return nil }
            #expect(raw.segment == 0)
            return String(decoding: bytes(text)[Int(raw.start)..<Int(raw.end)], as: UTF8.self)
        }
        return nil
    }

    @Test func percentEncodingIsUndoneAndMapsBackToTheEscapes() throws {
        let encoded = "token=ghp%5F" + Self.token.dropFirst(4)
        #expect(try Self.views(encoded) == ["token=\(Self.token)"])
        #expect(try Self.rawSpan(of: Self.token, in: encoded) == "ghp%5F" + Self.token.dropFirst(4))
        let everyByte = Self.token.utf8.map { String(format: "%%%02x", $0) }.joined()
        #expect(try Self.rawSpan(of: Self.token, in: "a=\(everyByte)&b=1") == everyByte)
        #expect(try Self.views("a+b%20c", form: true) == ["a b c"])
        #expect(try Self.views("a+b%20c") == ["a+b c"], "+ is a space only in forms")
        #expect(try Self.views("100% sure, 50%off") == [], "no escape, no view")
    }

    @Test func jsonEscapesAreUndoneRepeatedly() throws {
        #expect(try Self.views(#"{"k":"ghp\u005f\#(Self.token.dropFirst(4))"}"#).contains(#"{"k":"\#(Self.token)"}"#))
        #expect(try Self.views(#"a\n\nIgnore"#) == ["a\n\nIgnore"])
        #expect(try Self.views(#"\ud83d\ude00 \ud800x"#) == ["😀 \u{FFFD}x"])
        // JSON in a JSON string, escaped twice: two levels.
        let twice = #"{"text":"{\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\"}"}"#
        let views = try Self.views(twice)
        #expect(views.contains(#"{"text":"{"key":"-----BEGIN PRIVATE KEY-----\nMIIE"}"}"#))
        #expect(views.contains("{\"text\":\"{\"key\":\"-----BEGIN PRIVATE KEY-----\nMIIE\"}\"}"))
        #expect(try Self.rawSpan(of: "ghp_", in: #"x ghp\u005fabc"#) == #"ghp\u005f"#)
    }

    @Test func base64RunsOfTextAreDecodedAndMapToTheWholeRun() throws {
        let encoded = Array(Self.token.utf8).base64Encoded
        let json = #"{"auth":"\#(encoded)","n":1}"#
        #expect(try Self.views(json) == [Self.token + "\n"])
        #expect(try Self.rawSpan(of: Self.token, in: json) == encoded)
        // URL-safe, unpadded.
        let urlSafe = encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(try Self.views("Bearer \(urlSafe)") == [Self.token + "\n"])
        // Binary and short runs are not text: no view.
        #expect(try Self.views("sha=3f786850e387550fdab836ed7e6dc881de23001b img=iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB") == [])
        #expect(try Self.views("abc=ZGVm") == [])
    }

    @Test func wrappedAndLenientBase64IsStillDecoded() throws {
        // `base64` wraps at 76 columns; the token straddles the break.
        let text = "# hosts.yml\nuser: octocat\noauth_token: \(Self.token)\ngit_protocol: https\n"
        let encoded = Array(text.utf8).base64Encoded
        let wrapped = stride(from: 0, to: encoded.count, by: 76).map { start in
            String(encoded.dropFirst(start).prefix(76))
        }.joined(separator: "\r\n  ")
        #expect(try Self.views("content:\n  \(wrapped)\n").contains { $0.contains(Self.token) })
        // Glued to a prefix, with a dangling last character, URL-safe and standard characters mixed.
        let glued = "sha256-" + Array(("token=" + Self.token).utf8).base64Encoded.replacingOccurrences(of: "=", with: "") + "x"
        #expect(try Self.views(glued).contains { $0.contains(Self.token) })
        // Text that is not ASCII is still text.
        let accented = Array((Self.token + " — clé privée ééééé").utf8).base64Encoded
        #expect(try Self.views(accented).contains { $0.contains(Self.token) })
    }

    @Test func hexRunsOfTextAreDecoded() throws {
        let hex = Self.token.utf8.map { String(format: "%02x", $0) }.joined()
        #expect(try Self.views("value=\(hex)") == [Self.token + "\n"])
        #expect(try Self.rawSpan(of: Self.token, in: "value=\(hex)") == hex)
    }

    @Test func theSameTextInTwoSegmentsIsScannedInBoth() throws {
        let encoded = Array(Self.token.utf8).base64Encoded
        let views = try DecodedViews(raw: [Self.bytes("X-Trace: \(encoded)"), Self.bytes(#"{"content":"\#(encoded)"}"#)])
        let roots = views.views.map { view -> Int in
            var parent = view.parent
            while parent >= views.rawCount { parent = views.views[parent - views.rawCount].parent }
            return parent
        }
        #expect(Set(roots) == [0, 1])
    }

    @Test func escapesBackToBackCostOnePiece() throws {
        let plus = try #require(PercentDecoding.decode(Array(repeating: UInt8(ascii: "+"), count: 10_000), plusIsSpace: true))
        #expect(plus.pieces.count == 1)
        // Alternating text and escapes hits the piece budget instead of allocating without bound.
        let alternating = String(repeating: "a+", count: 200_000)
        #expect(throws: DecodedViews.Failure.self) {
            _ = try DecodedViews(raw: [Self.bytes(alternating)], syntax: [0: .form], budget: 1_000_000)
        }
    }

    @Test func encodingsNestAndEachLevelMapsBack() throws {
        // base64 of a percent-encoded token inside a JSON string with an escaped slash.
        let inner = "t=ghp%5F" + Self.token.dropFirst(4)
        let encoded = Array(inner.utf8).base64Encoded
        let text = #"{"u":"https:\/\/x.test\/","v":"\#(encoded)"}"#
        #expect(try Self.rawSpan(of: Self.token, in: text) == encoded)
        #expect(try Self.views(text).contains { $0.contains(Self.token) })
    }

    @Test func deepAndLargeDecodingIsRefused() throws {
        var text = Self.token
        for _ in 0..<6 { text = Array(text.utf8).base64Encoded }
        #expect(throws: DecodedViews.Failure.tooDeep(4)) { try Self.views(text) }
        var percent = "%41"
        for _ in 0..<5 { percent = percent.replacingOccurrences(of: "%", with: "%25") }
        #expect(throws: DecodedViews.Failure.tooDeep(4)) { try Self.views(percent) }
        #expect(try Self.views("%252541").last == "A", "three levels are decoded")
        // Views that would hold more than the budget are refused, not truncated.
        let escaped = String(repeating: #"\u0041%41"#, count: 1_000)
        #expect(throws: DecodedViews.Failure.tooLarge(10_000)) {
            _ = try DecodedViews(raw: [Self.bytes(escaped)], budget: 10_000)
        }
        #expect(DecodedViews.budget(forRawBytes: 1_000) == 3_000 + 65_536)
        #expect(DecodedViews.budget(forRawBytes: 70 << 20) == 2 << 20)
    }
}
