/// The headers of one multipart part that decide how its content is decoded.
struct PartHeaders {
    var contentTypes: [String] = []
    /// Lowercased, without parameters (Django reads `base64; x=1` as base64).
    var transferEncodings: [String] = []
    var contentCodings: [String] = []

    /// The part's headers and where its content starts: after the first empty line. A part
    /// without an empty line is all headers.
    ///
    /// Servers find a part's headers differently — Django from the boundary to the first CRLF
    /// CRLF, stripping each line; Go line by line to the first empty one, unfolding — so only
    /// the block they all read alike is decoded: every line, the empty one included, ends in CRLF,
    /// and every line is `name: value` with a token name. Anything else is refused.
    static func parse(_ source: [UInt8], range: Range<Int>) throws(MultipartParts.Failure) -> (PartHeaders, body: Range<Int>) {
        var headers = PartHeaders()
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            guard let newline = source[lineStart..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) else { break }
            var line = source[lineStart..<newline]
            guard line.last == UInt8(ascii: "\r") else { throw .undecodable("a part whose header lines do not end in CRLF") }
            line = line.dropLast()
            if line.isEmpty { return (headers, (newline + 1)..<range.upperBound) }
            try headers.add(line)
            lineStart = newline + 1
        }
        return (headers, range.upperBound..<range.upperBound)
    }

    /// Text that is not a part to most servers (a preamble, an epilogue) but is one to some: it may
    /// not declare an encoding on a line of its own, however the line is padded.
    static func refuseDeclaredEncodings(_ source: [UInt8], range: Range<Int>) throws(MultipartParts.Failure) {
        let prefixes = ["content-transfer-encoding", "content-encoding"].map { Array($0.utf8) }
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            let lineEnd = source[lineStart..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) ?? range.upperBound
            // Any byte that is not a letter is padding some server strips (spaces, \x0b, \x1c, U+3000).
            let letters = source[lineStart..<lineEnd].drop { !Self.isLetter($0) }.prefix(25).map { $0 | 0x20 }
            if prefixes.contains(where: { letters.starts(with: $0) }) {
                throw .undecodable("a multipart preamble or epilogue that declares an encoding")
            }
            lineStart = lineEnd + 1
        }
    }

    private mutating func add(_ line: ArraySlice<UInt8>) throws(MultipartParts.Failure) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
            line[..<colon].allSatisfy(Self.isTokenCharacter)
        else {
            throw .undecodable("a part header line that is not a plain name: value")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
        switch name {
        case "content-type":
            contentTypes.append(value)
        case "content-transfer-encoding":
            transferEncodings.append((value.split(separator: ";", omittingEmptySubsequences: false).first ?? "").trimmingASCIISpaces().lowercased())
        case "content-encoding":
            contentCodings += value.split(separator: ",").map { $0.trimmingASCIISpaces().lowercased() }
                .filter { !$0.isEmpty && $0 != "identity" }
        default:
            break
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
