/// Small text rules shared by the config readers.
package enum ConfigText {
    /// `value` in double quotes with `"`, `\` and control characters escaped, cut after 80 characters, for
    /// error messages: `"glob"`, `"a\nb"`.
    package static func quoted(_ value: String) -> String {
        let limit = 80
        var out = "\""
        for (offset, scalar) in value.unicodeScalars.enumerated() {
            if offset == limit {
                out += "…"
                break
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// An HTTP token (RFC 9110 §5.6.2): what methods and header names are made of.
    package static func isHTTPToken(_ value: String) -> Bool {
        !value.isEmpty
            && value.utf8.allSatisfy { byte in
                isASCIIAlphanumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }

    /// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    package static func isEnvironmentName(_ value: String) -> Bool {
        guard let first = value.utf8.first, first == UInt8(ascii: "_") || isASCIILetter(first) else {
            return false
        }
        return value.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "_") }
    }

    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isASCIIDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        isASCIILetter(byte) || isASCIIDigit(byte)
    }
}
