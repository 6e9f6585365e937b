import NIOHTTP1

/// What a segment's `Content-Type` says about how its text is built, which decides the decoders
/// DLP applies beyond those that apply to every segment (``DecodedViews``).
struct SegmentSyntax: Equatable {
    /// `application/x-www-form-urlencoded` (and a query string): `+` is a space.
    var formEncoded = false
    /// `multipart/*` bodies: the boundaries their parts are split on (``MultipartParts``).
    var multipartBoundaries: [[UInt8]] = []

    static let plain = SegmentSyntax()
    static let form = SegmentSyntax(formEncoded: true)

    /// A boundary is 1 to 70 characters (RFC 2046 §5.1.1).
    static let maximumBoundaryLength = 70
    /// More boundaries than this for one body (from repeated `Content-Type` headers or parameters)
    /// is not something a client sends; each would cost a pass over the body.
    static let maximumBoundaries = 4

    enum Failure: Error, Equatable {
        case tooManyBoundaries(Int)
        /// A multipart type whose boundary servers could read differently (what, in words).
        case unclearBoundary(String)

        /// What was wrong, in words, for a refusal's reason.
        var problem: String {
            switch self {
            case .tooManyBoundaries: "a multipart type with more than \(SegmentSyntax.maximumBoundaries) boundaries"
            case .unclearBoundary(let what): what
            }
        }
    }

    /// The syntax named by a request's or part's `Content-Type` values. A form type anywhere counts;
    /// a multipart type must be the only value (see below).
    ///
    /// A multipart boundary is taken only when every server reads it the same way: RFC 2046
    /// characters, quoted or not, without escapes, spaces at either end or RFC 2231 `boundary*`
    /// forms, which parsers unquote, trim and decode differently. Anything else is refused, since
    /// a body split on another boundary than the server's hides its parts from DLP.
    init(contentTypes: [String]) throws(Failure) {
        var boundaries: [[UInt8]] = []
        for value in contentTypes {
            switch Self.plainMediaType(value) {
            case .other: continue
            case .form:
                formEncoded = true
                continue
            case nil: break
            }
            let (type, parameters) = Self.parse(value)
            if type == "application/x-www-form-urlencoded" { formEncoded = true }
            guard type.hasPrefix("multipart/") else { continue }
            // Python's parameter parser and ours disagree on escapes outside quotes.
            guard !value.contains("\\") else { throw .unclearBoundary("a multipart type with a backslash") }
            // Servers that join repeated headers with commas (Django under ASGI) read the last
            // boundary of the joined value: one multipart type, one header, no list.
            guard contentTypes.count == 1 else { throw .unclearBoundary("a multipart type among several Content-Type headers") }
            guard !Self.hasCommaOutsideQuotes(value) else { throw .unclearBoundary("a multipart type with a comma outside quotes") }
            var found = false
            for (name, rawValue) in parameters {
                if name.hasPrefix("boundary*") { throw .unclearBoundary("an RFC 2231 boundary parameter") }
                guard name == "boundary" else { continue }
                let bytes = try Self.boundary(rawValue)
                found = true
                if !boundaries.contains(bytes) { boundaries.append(bytes) }
                guard boundaries.count <= Self.maximumBoundaries else { throw .tooManyBoundaries(boundaries.count) }
            }
            guard found else { throw .unclearBoundary("a multipart type without a boundary") }
        }
        multipartBoundaries = boundaries
    }

    /// Adds what another segment's syntax says (decoded parts that share one view), within the
    /// same bound on boundaries.
    mutating func absorb(_ other: SegmentSyntax) throws(Failure) {
        formEncoded = formEncoded || other.formEncoded
        for boundary in other.multipartBoundaries where !multipartBoundaries.contains(boundary) {
            multipartBoundaries.append(boundary)
            guard multipartBoundaries.count <= Self.maximumBoundaries else { throw .tooManyBoundaries(multipartBoundaries.count) }
        }
    }

    init(formEncoded: Bool = false, multipartBoundaries: [[UInt8]] = []) {
        self.formEncoded = formEncoded
        self.multipartBoundaries = multipartBoundaries
    }

    /// The syntax of a message body from every `Content-Type` header of its message, each value
    /// as sent (a comma inside a quoted boundary is part of it, not a list separator).
    static func of(_ headers: HTTPHeaders) throws(DecodedViews.Failure) -> SegmentSyntax {
        do {
            return try SegmentSyntax(contentTypes: headers["content-type"])
        } catch {
            throw .undecodablePart(error.problem)
        }
    }

    /// A boundary parameter's value, unquoted, if it is one servers agree on.
    private static func boundary(_ rawValue: String) throws(Failure) -> [UInt8] {
        var bytes = Array(rawValue.utf8)
        if bytes.first == UInt8(ascii: "\"") {
            guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else { throw .unclearBoundary("an unterminated quoted boundary") }
            bytes = Array(bytes.dropFirst().dropLast())
        }
        guard !bytes.isEmpty, bytes.count <= maximumBoundaryLength else {
            throw .unclearBoundary("a multipart boundary of \(bytes.count) characters (1 to \(maximumBoundaryLength))")
        }
        guard bytes.allSatisfy(isBoundaryCharacter), bytes.first != UInt8(ascii: " "), bytes.last != UInt8(ascii: " ") else {
            throw .unclearBoundary("a multipart boundary with characters outside RFC 2046's")
        }
        return bytes
    }

    private static func hasCommaOutsideQuotes(_ value: String) -> Bool {
        var quoted = false
        for character in value {
            if character == "\"" { quoted.toggle() } else if character == ",", !quoted { return true }
        }
        return false
    }

    /// RFC 2046 §5.1.1 `bchars`: digits, letters, `'()+_,-./:=?` and space.
    private static func isBoundaryCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: Array("'()+_,-./:=? ".utf8).contains(byte)
        }
    }

    private enum PlainMediaType { case form, other }

    /// The media type of a value that needs no parsing to judge, or `nil`: an ASCII value without
    /// quotes or backslashes splits on its first `;` exactly as ``parse(_:)`` splits it, so a type
    /// that is neither multipart nor form (most bodies: JSON, octet streams) costs one pass over
    /// the type's bytes instead of a parse into strings.
    private static func plainMediaType(_ value: String) -> PlainMediaType? {
        var value = value
        return value.withUTF8 { utf8 -> PlainMediaType? in
            var start = 0
            var end = utf8.count
            for (offset, byte) in utf8.enumerated() {
                if byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return nil }
                if byte == UInt8(ascii: ";"), end == utf8.count { end = offset }
            }
            while start < end, utf8[start] == UInt8(ascii: " ") || utf8[start] == UInt8(ascii: "\t") { start += 1 }
            while end > start, utf8[end - 1] == UInt8(ascii: " ") || utf8[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            let type = UnsafeBufferPointer(rebasing: utf8[start..<end])
            if ASCIICase.hasPrefix(type, lowercased: multipartPrefix) { return nil }
            return ASCIICase.equals(type, lowercased: formType) ? .form : .other
        }
    }

    private static let multipartPrefix = Array("multipart/".utf8)
    private static let formType = Array("application/x-www-form-urlencoded".utf8)

    /// The lowercased media type and its parameters (names lowercased, values as sent, quotes
    /// included, with spaces around them trimmed). A `;` inside quotes does not end a parameter.
    static func parse(_ value: String) -> (type: String, parameters: [(String, String)]) {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var escaped = false
        for character in value {
            field.append(character)
            if escaped {
                escaped = false
            } else if quoted, character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted, character == ";" {
                field.removeLast()
                fields.append(field)
                field = ""
            }
        }
        fields.append(field)
        let type = fields[0].trimmingASCIISpaces().lowercased()
        let parameters = fields.dropFirst().compactMap { field -> (String, String)? in
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let name = field[..<equals].trimmingASCIISpaces().lowercased()
            let value = field[field.index(after: equals)...].trimmingASCIISpaces()
            return (name, value)
        }
        return (type, parameters)
    }
}
