/// The headers of one multipart part that decide how its content is decoded.
struct PartHeaders {
    var contentTypes: [String] = []
    var transferEncodings: [String] = []
    var contentCodings: [String] = []

    /// The part's headers and where its content starts: after the first empty line (CRLF or LF).
    /// A part without an empty line is all headers.
    static func parse(_ source: [UInt8], range: Range<Int>) -> (PartHeaders, body: Range<Int>) {
        var headers = PartHeaders()
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            let lineEnd = source[lineStart..<range.upperBound].firstIndex(of: UInt8(ascii: "\n")) ?? range.upperBound
            var line = source[lineStart..<lineEnd]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { return (headers, min(lineEnd + 1, range.upperBound)..<range.upperBound) }
            if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let name = String(decoding: line[..<colon], as: UTF8.self).trimmingASCIISpaces().lowercased()
                let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
                switch name {
                case "content-type": headers.contentTypes.append(value)
                case "content-transfer-encoding": headers.transferEncodings.append(value.lowercased())
                case "content-encoding":
                    headers.contentCodings += value.split(separator: ",").map { $0.trimmingASCIISpaces().lowercased() }
                        .filter { !$0.isEmpty && $0 != "identity" }
                default: break
                }
            }
            lineStart = lineEnd + 1
        }
        return (headers, range.upperBound..<range.upperBound)
    }
}
