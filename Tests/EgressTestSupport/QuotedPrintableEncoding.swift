/// Quoted-printable as a mail or upload client writes it (RFC 2045 §6.7): every byte that is not
/// printable ASCII, and `=` itself, as `=XX`, and lines of at most 76 characters joined by `=` soft
/// breaks, which fall wherever they fall, tokens included.
public enum QuotedPrintableEncoding {
    public static func encode(_ text: String, lineLength: Int = 76) -> String {
        var lines: [String] = []
        var line = ""
        for byte in text.utf8 {
            let encoded =
                (byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "=")) || byte == 0x20
                ? String(UnicodeScalar(byte)) : "=" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            // Room is left for the `=` of the soft break.
            if line.utf8.count + encoded.utf8.count > lineLength - 1 {
                lines.append(line + "=")
                line = ""
            }
            line += encoded
        }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
