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

    /// A boundary is 1 to 70 characters (RFC 2046 §5.1.1); a longer one is not a boundary.
    static let maximumBoundaryLength = 70
    /// More boundaries than this for one body (from repeated `Content-Type` headers or parameters)
    /// is not something a client sends; each would cost a pass over the body.
    static let maximumBoundaries = 4

    enum Failure: Error, Equatable {
        case tooManyBoundaries(Int)
    }

    /// The syntax named by a request's or part's `Content-Type` values. Every value counts: when a
    /// hostile sender repeats the header, a server may read any one of them.
    init(contentTypes: [String]) throws(Failure) {
        var boundaries: [[UInt8]] = []
        for value in contentTypes {
            let (type, parameters) = Self.parse(value)
            if type == "application/x-www-form-urlencoded" { formEncoded = true }
            guard type.hasPrefix("multipart/") else { continue }
            for (name, parameter) in parameters where name == "boundary" {
                let bytes = Array(parameter.utf8)
                guard !bytes.isEmpty, bytes.count <= Self.maximumBoundaryLength, !boundaries.contains(bytes) else { continue }
                boundaries.append(bytes)
            }
        }
        guard boundaries.count <= Self.maximumBoundaries else { throw .tooManyBoundaries(boundaries.count) }
        multipartBoundaries = boundaries
    }

    /// The syntax of a message body from every `Content-Type` header of its message.
    static func of(_ headers: HTTPHeaders) throws(DecodedViews.Failure) -> SegmentSyntax {
        do {
            return try SegmentSyntax(contentTypes: headers[canonicalForm: "content-type"].map(String.init))
        } catch {
            throw .undecodablePart("a body with more than \(maximumBoundaries) multipart boundaries")
        }
    }

    init(formEncoded: Bool = false, multipartBoundaries: [[UInt8]] = []) {
        self.formEncoded = formEncoded
        self.multipartBoundaries = multipartBoundaries
    }

    /// The lowercased media type and its parameters (names lowercased, quoted values unquoted).
    static func parse(_ value: String) -> (type: String, parameters: [(String, String)]) {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped {
                field.append(character)
                escaped = false
            } else if quoted, character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted, character == ";" {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
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
