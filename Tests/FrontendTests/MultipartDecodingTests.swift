import EgressTestSupport
import IPC
import NIOHTTP1
import Testing

@testable import Frontend

/// Multipart parts with encodings of their own are decoded for DLP, under every reading of the
/// body a server might take, and what cannot be decoded is refused.
@Suite("multipart decoding")
struct MultipartDecodingTests {
    static let token = DecodedViewsTests.token
    static let boundary = "XbottleX"

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A body of parts, each `(headers, content)`, joined with CRLF delimiters.
    static func body(_ parts: [(String, String)], boundary: String = boundary, closed: Bool = true) -> String {
        parts.map { "--\(boundary)\r\n\($0.0)\r\n\r\n\($0.1)\r\n" }.joined() + (closed ? "--\(boundary)--\r\n" : "")
    }

    static func views(_ body: String, boundaries: [String] = [boundary]) throws -> DecodedViews {
        try DecodedViews(raw: [bytes(body)], syntax: [0: SegmentSyntax(multipartBoundaries: boundaries.map(bytes))])
    }

    /// The raw text a finding of `needle` in the first view holding it maps back to.
    static func rawSpan(of needle: String, in body: String) throws -> String? {
        let views = try views(body)
        for (index, segment) in views.segments.enumerated().dropFirst() {
            guard let range = segment.firstRange(of: bytes(needle)) else { continue }
            let finding = WireFinding(detectorID: "t", segment: UInt32(index), start: UInt64(range.lowerBound), end: UInt64(range.upperBound))
            let raw = try #require(views.rawFindings([finding]).first)
            return String(decoding: bytes(body)[Int(raw.start)..<Int(raw.end)], as: UTF8.self)
        }
        return nil
    }

    static func found(_ body: String, boundaries: [String] = [boundary]) throws -> Bool {
        try views(body, boundaries: boundaries).segments.dropFirst().contains { $0.firstRange(of: bytes(token)) != nil }
    }

    @Test func quotedPrintablePartsAreDecodedAcrossSoftBreaks() throws {
        // The token split by a soft line break, its underscore escaped.
        let encoded = "ghp=5F" + Self.token.dropFirst(4).prefix(10) + "=\r\n" + Self.token.dropFirst(14)
        let body = Self.body([
            ("Content-Disposition: form-data; name=\"a\"", "plain"),
            ("Content-Disposition: form-data; name=\"f\"\r\nContent-Transfer-Encoding: Quoted-Printable", "key: \(encoded)"),
        ])
        #expect(!body.contains(Self.token))
        #expect(try Self.found(body))
        #expect(try Self.rawSpan(of: Self.token, in: body) == encoded)
        // The encoder tests use, whatever the line length, is undone.
        for length in [20, 40, 76] {
            let wrapped = QuotedPrintableEncoding.encode("token = \(Self.token)\n", lineLength: length)
            #expect(try Self.found(Self.body([("Content-Transfer-Encoding: quoted-printable", wrapped)])), "\(length)")
        }
    }

    @Test func base64AndCompressedPartsAreDecoded() throws {
        let wrapped = Array("GITHUB_TOKEN=\(Self.token)\n".utf8).base64Encoded.chunked(19).joined(separator: "\r\n")
        let base64 = Self.body([("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64", wrapped)])
        #expect(try Self.found(base64))
        #expect(try Self.rawSpan(of: Self.token, in: base64) == wrapped, "a finding covers the whole encoded part")
        // Binary that base64 runs alone would skip: a declared encoding is decoded whatever it holds.
        let gzipped = InflateTests.compress("token \(Self.token)", .gzip)
        let both = Self.body([("Content-Encoding: gzip\r\nContent-Transfer-Encoding: base64", gzipped.base64Encoded)])
        #expect(try Self.found(both))
    }

    @Test func partsWithoutEncodingsAddNoView() throws {
        let body = Self.body([
            ("Content-Disposition: form-data; name=\"a\"", "one"),
            ("Content-Transfer-Encoding: 8bit\r\nContent-Type: text/plain", "two"),
        ])
        #expect(try Self.views(body).views.isEmpty)
    }

    @Test func nestedMultipartIsDecoded() throws {
        let inner = Self.body([("Content-Transfer-Encoding: quoted-printable", "ghp=5F\(Self.token.dropFirst(4))")], boundary: "inner")
        let outer = Self.body([("Content-Type: multipart/mixed; boundary=inner", inner)])
        #expect(try Self.found(outer))
        // Base64 of a multipart body with an encoded part: the decoded part is split in turn.
        let encoded = Self.body([("Content-Type: multipart/mixed; boundary=\"inner\"\r\nContent-Transfer-Encoding: base64", Array(inner.utf8).base64Encoded)])
        #expect(try Self.found(encoded))
        // Nesting past the bound is refused.
        var deep = Self.body([("Content-Transfer-Encoding: quoted-printable", "x=41")], boundary: "b0")
        for level in 1...5 { deep = Self.body([("Content-Type: multipart/mixed; boundary=b\(level - 1)", deep)], boundary: "b\(level)") }
        #expect(throws: DecodedViews.Failure.tooDeep(DecodedViews.maximumDepth)) { _ = try Self.views(deep, boundaries: ["b5"]) }
    }

    @Test func framingOutsideCRLFDelimiterLinesIsRefused() throws {
        // After a bare LF, `--XbottleX` is a delimiter to lenient servers and part content to
        // strict ones (Go in CRLF mode): the body is refused, not read one way.
        let lenient = "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--\(Self.boundary)\n"
            + "Content-Transfer-Encoding: quoted-printable\n\nghp=5F\(Self.token.dropFirst(4))\n--\(Self.boundary)--\n"
        #expect(throws: DecodedViews.Failure.self) { _ = try Self.views(lenient) }
        // LF-only framing: Go switches to it, Django still ends headers at the first CRLF CRLF.
        let base64 = Array("t=\(Self.token)".utf8).base64Encoded
        let lfOnly = "--\(Self.boundary)\nX: y\n\nx\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\n--\(Self.boundary)--\n"
        #expect(throws: DecodedViews.Failure.self) { _ = try Self.views(lfOnly) }
        // An unterminated body still has its last part decoded, and a closing line may end the body.
        #expect(try Self.found(Self.body([("Content-Transfer-Encoding: quoted-printable", "ghp=5F\(Self.token.dropFirst(4))")], closed: false)))
        let unended = "--\(Self.boundary)\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nghp=5F\(Self.token.dropFirst(4))\r\n--\(Self.boundary)--"
        #expect(try Self.found(unended))
    }

    @Test func undecodablePartsAreRefused() throws {
        let cases: [(String, String)] = [
            ("Content-Transfer-Encoding: x-uuencode", "begin 644 a\n"),
            ("Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: quoted-printable", "YQ=="),
            ("Content-Transfer-Encoding: base64", "not base64 at all!"),
            ("Content-Encoding: gzip", "not gzip"),
            ("Content-Encoding: br", "x"),
        ]
        for (headers, content) in cases {
            #expect(throws: DecodedViews.Failure.self, "\(headers)") { _ = try Self.views(Self.body([(headers, content)])) }
        }
        let uuencode = #expect(throws: DecodedViews.Failure.self) {
            _ = try Self.views(Self.body([("Content-Transfer-Encoding: x-uuencode", "x")]))
        }
        #expect(uuencode?.reason == "egress DLP: cannot decode a part with Content-Transfer-Encoding x-uuencode for scanning")
        // A bomb inside a part meets the views' budget.
        let bomb = InflateTests.compress([UInt8](repeating: 0x41, count: 4 << 20), .gzip)
        let body = Self.bytes("--\(Self.boundary)\r\nContent-Encoding: gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n\(bomb.base64Encoded)\r\n--\(Self.boundary)--")
        #expect(throws: DecodedViews.Failure.tooLarge(100_000)) {
            try DecodedViews(raw: [body], syntax: [0: SegmentSyntax(multipartBoundaries: [Self.bytes(Self.boundary)])], budget: 100_000)
        }
    }

    static func syntax(_ contentTypes: String...) throws(DecodedViews.Failure) -> SegmentSyntax {
        try SegmentSyntax.of(HTTPHeaders(contentTypes.map { ("Content-Type", $0) }))
    }

    @Test func contentTypesNameEveryBoundary() throws {
        // As sent: a comma inside quotes is part of the boundary, not a list separator.
        let quoted = try Self.syntax(#"multipart/form-data; charset=utf-8; boundary="a,b:c""#)
        #expect(quoted.multipartBoundaries == [Self.bytes("a,b:c")])
        #expect(!quoted.formEncoded)
        // Every boundary parameter counts: a server may read any one.
        let repeated = try Self.syntax("Multipart/Form-Data; boundary=one; BOUNDARY=two")
        #expect(repeated.multipartBoundaries == [Self.bytes("one"), Self.bytes("two")])
        #expect(try Self.syntax("text/plain; boundary=no").multipartBoundaries.isEmpty)
        #expect(try Self.syntax("application/x-www-form-urlencoded; charset=utf-8") == .form)
        #expect(try Self.syntax("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW").multipartBoundaries.count == 1)
        #expect(throws: DecodedViews.Failure.self) { try Self.syntax((1...5).map { "boundary=b\($0)" }.reduce("multipart/mixed") { $0 + "; " + $1 }) }
    }

    /// Most values are judged without the full parse; the judgement must be the parse's.
    @Test func mediaTypesJudgedWithoutParsingAgreeWithTheParse() throws {
        let types = [
            "application/json", "Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded",
            "application/x-www-form-urlencodedx", "text/plain", "MULTIPART/form-data", "multipart", "",
            "application/x-www-form-urlencoded\u{212A}", "appl\u{0130}cation/json",
        ]
        let decorations = ["", " ", "\t", " ;", "; charset=utf-8", " ; boundary=b1", "\"x\";", ";;", "\\;"]
        for type in types {
            for before in ["", " ", "\t "] {
                for after in decorations {
                    let value = before + type + after
                    let (parsedType, _) = SegmentSyntax.parse(value)
                    guard !parsedType.hasPrefix("multipart/") else { continue }
                    let syntax = try SegmentSyntax(contentTypes: [value])
                    #expect(syntax == SegmentSyntax(formEncoded: parsedType == "application/x-www-form-urlencoded"), "\(value)")
                }
            }
        }
        // A multipart type is never judged without its boundary.
        #expect(try SegmentSyntax(contentTypes: [" MultiPart/Mixed ;boundary=b1"]).multipartBoundaries == [Self.bytes("b1")])
    }

    @Test func boundariesServersReadDifferentlyAreRefused() throws {
        let unclear = [
            #"multipart/form-data; boundary="X\Y""#,  // unescaped by some, kept by others
            #"multipart/form-data; boundary=" X""#,  // trimmed by some
            #"multipart/form-data; boundary="X ""#,
            "multipart/form-data; boundary=" + String(repeating: "x", count: 71),
            "multipart/form-data; boundary*=utf-8''X",  // RFC 2231, decoded by Go and Django
            "multipart/form-data; boundary=A; boundary*0=B",
            "multipart/form-data; boundary=\u{A0}X",  // Go trims Unicode spaces
            #"multipart/form-data; boundary="X"#,
            #"multipart/form-data; boundary=good; a=\"; boundary=evil"#,  // Python reads three parameters
            "multipart/form-data; boundary=a, text/plain; boundary=q",  // a list, as ASGI joins repeated headers
            "multipart/form-data",
        ]
        for value in unclear {
            #expect(throws: DecodedViews.Failure.self, "\(value)") { try Self.syntax(value) }
        }
        // Two Content-Type headers, one multipart: Django under ASGI joins them and takes the last boundary.
        #expect(throws: DecodedViews.Failure.self) { try Self.syntax("multipart/form-data; boundary=zzzz", "text/plain; boundary=q") }
    }

    @Test func bodiesServersSplitDifferentlyAreDecodedOrRefused() throws {
        let qp = "ghp=5F\(Self.token.dropFirst(4))"
        let b = Self.boundary
        // A preamble of plain text is skipped.
        let preamble = "This is a multi-part message.\r\n--\(b)\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\(qp)\r\n--\(b)--\r\n"
        #expect(try Self.found(preamble))
        // Django finds the boundary anywhere, Go only on delimiter lines: such bodies are refused.
        let base64 = Array("token=\(Self.token);".utf8).base64Encoded
        for body in [
            "junk--\(b)\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "--\(b)\r\nA: 1\r\n\r\nx\r\n--\(b)Y\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            // Headers ended by LF CRLF: Django reads on to the next CRLF CRLF.
            "--\(b)\r\nX-Pad: 1\n\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "--\(b)\n\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "--\(b)\r\nA: 1\n\nx\r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            // Padding after the boundary, or a line end unlike the one before: python-multipart
            // and Go read those lines as content.
            "--\(b)\r\nA: 1\r\n\r\nx\r\n--\(b) \r\nContent-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "--\(b)\r\r\n\n--\(b)\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\(qp)\r\n--\(b)--",
            "--\(b)\r\nA: 1\r\n\r\nx\r\n--\(b)\nContent-Transfer-Encoding: base64\n\n\(base64)\r\n--\(b)--",
            // Folded or padded header lines: Go unfolds them, Django strips each line.
            "--\(b)\r\nContent-Type: text/plain\r\n Content-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "--\(b)\r\n\u{0B}Content-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            // Django reads a preamble as a part.
            "Content-Transfer-Encoding: base64\r\n\r\n\(base64)\r\n--\(b)--",
            "\u{0B} content-encoding: gzip\r\n\r\nx\r\n--\(b)\r\nA: 1\r\n\r\nx\r\n--\(b)--",
        ] {
            #expect(throws: DecodedViews.Failure.self, "\(body.debugDescription)") { _ = try Self.views(body) }
        }
        // Parts after the closing delimiter are decoded too: not every server stops there.
        let epilogue = Self.body([("A: 1", "x")]) + "--\(b)\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\(qp)\r\n"
        #expect(try Self.found(epilogue))
        // An epilogue of plain text is left alone.
        #expect(try Self.views(Self.body([("A: 1", "x")]) + "trailing words, not a part\r\n").views.isEmpty)
        // Parameters after the encoding's name are ignored, as servers do.
        #expect(try Self.found(Self.body([("Content-Transfer-Encoding: base64; x=1", Array("t \(Self.token)".utf8).base64Encoded)])))
    }

    @Test func base64PartsMustBeStrictBase64() throws {
        let encoded = Array("token: \(Self.token)".utf8).base64Encoded
        #expect(try Self.found(Self.body([("Content-Transfer-Encoding: base64", encoded)])))
        // Python's decoder drops `-` and `_` and skips a stray `=`; ours would read other bytes.
        let dashed = stride(from: 0, to: encoded.count, by: 3).map { String(encoded.dropFirst($0).prefix(3)) }.joined(separator: "-")
        let strayPadding = stride(from: 0, to: encoded.count, by: 4).map { String(encoded.dropFirst($0).prefix(2)) + "=" + encoded.dropFirst($0 + 2).prefix(2) }.joined()
        for content in [dashed, strayPadding, "YQ===", "Y", "YQ=x"] {
            #expect(throws: DecodedViews.Failure.self, "\(content)") { _ = try Self.views(Self.body([("Content-Transfer-Encoding: base64", content)])) }
        }
        #expect(StrictBase64.decode(ArraySlice(Self.bytes("YWJj\r\nZA=="))) == Self.bytes("abcd"))
        // Quoted-printable that decoders read differently: `==` (Python takes both), `=` and a lone CR
        // (Python drops the rest of the line or chunk, Go fails).
        for content in ["pass==word", "x= \r=67=68=70", "x=\rjunk\r\nmore"] {
            #expect(throws: DecodedViews.Failure.self, "\(content.debugDescription)") {
                _ = try Self.views(Self.body([("Content-Transfer-Encoding: quoted-printable", content)]))
            }
        }
        #expect(StrictBase64.decode(ArraySlice(Self.bytes("YWI=\r\nYw"))) == nil, "padding only at the end")
    }

    @Test func splittingWorkIsBounded() throws {
        // Each level declares four boundaries for its one part: every level is searched four
        // times, which past the bound on searched bytes is refused rather than ground through.
        var body = String(repeating: "padding line without any boundary in it\r\n", count: 10_000)
        for level in 1...3 {
            let boundaries = ["L\(level - 1)", "x\(level)a", "x\(level)b", "x\(level)c"].map { "boundary=\($0)" }.joined(separator: "; ")
            body = "--L\(level)\r\nContent-Type: multipart/mixed; \(boundaries)\r\n\r\n\(body)\r\n--L\(level)--\r\n"
        }
        #expect(throws: DecodedViews.Failure.tooLarge(DecodedViews.budget(forRawBytes: body.utf8.count))) {
            _ = try Self.views(body, boundaries: ["L3", "y1", "y2", "y3"])
        }
        // One level of the same is fine.
        let shallow = "--L1\r\nContent-Type: multipart/mixed; boundary=L0\r\n\r\nx\r\n--L1--\r\n"
        #expect(try Self.views(shallow, boundaries: ["L1"]).views.isEmpty)
    }
}

extension String {
    fileprivate func chunked(_ size: Int) -> [String] {
        stride(from: 0, to: count, by: size).map { String(dropFirst($0).prefix(size)) }
    }
}
