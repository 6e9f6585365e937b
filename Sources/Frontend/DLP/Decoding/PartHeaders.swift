/// The headers of one multipart part that decide how its content is decoded.
struct PartHeaders {
    var contentTypes: [String] = []
    /// Lowercased, without parameters (Django reads `base64; x=1` as base64).
    var transferEncodings: [String] = []
    var contentCodings: [String] = []

    /// The part's headers and where its content starts: after the first empty line. A part
    /// without an empty line is all headers. Folded lines (a line that starts with a space or tab)
    /// continue the header before them, as Go reads them.
    ///
    /// The header block must end its lines one way, all CRLF or all LF: where it mixes them,
    /// Django (which ends headers at the first CRLF CRLF) and Go (at the first empty line) find
    /// different headers, so the part is refused.
    static func parse(_ source: [UInt8], range: Range<Int>) throws(MultipartParts.Failure) -> (PartHeaders, body: Range<Int>) {
        var lines: [String] = []
        var endings: Set<Bool> = []
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            guard let newline = source[lineStart..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) else { break }
            var line = source[lineStart..<newline]
            let crlf = line.last == UInt8(ascii: "\r")
            endings.insert(crlf)
            guard endings.count == 1 else { throw .undecodable("a part whose headers mix CRLF and LF line ends") }
            if crlf { line = line.dropLast() }
            if line.isEmpty {
                return (PartHeaders(lines: lines), (newline + 1)..<range.upperBound)
            }
            let text = String(decoding: line, as: UTF8.self)
            if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t"), !lines.isEmpty {
                lines[lines.count - 1] += " " + text.trimmingASCIISpaces()
            } else {
                lines.append(text)
            }
            lineStart = newline + 1
        }
        return (PartHeaders(lines: lines), range.upperBound..<range.upperBound)
    }

    private init(lines: [String]) {
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingASCIISpaces().lowercased()
            let value = line[line.index(after: colon)...].trimmingASCIISpaces()
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
    }

    init() {}
}
