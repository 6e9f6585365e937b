/// Expands the placeholders of a phrasing into the characters an attacker would send.
enum InjectionText {
    static func render(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "⟦") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "⟧") else { break }
            let inner = rest[open.upperBound..<close.lowerBound]
            let (name, argument) = inner.firstIndex(of: ":").map { (inner[..<$0], inner[inner.index(after: $0)...]) }
                ?? (inner, Substring(""))
            switch name {
            case "tags": out += tags(String(argument))
            case "interleave": out += interleave(String(argument))
            case "zwrun": out += "\u{200B}\u{200C}\u{200B}\u{200D}\u{200B}"
            case "rlo": out += "\u{202E}" + argument + "\u{202C}"
            default: out += inner
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// ASCII as Unicode tag characters (U+E0020–U+E007E), framed by BEGIN and CANCEL TAG.
    static func tags(_ text: String) -> String {
        var out = "\u{E0001}"
        for scalar in text.unicodeScalars where (0x20...0x7E).contains(scalar.value) {
            out.unicodeScalars.append(Unicode.Scalar(0xE0000 + scalar.value)!)
        }
        return out + "\u{E007F}"
    }

    /// A zero-width space after every letter: the text reads the same, and a phrase match misses.
    static func interleave(_ text: String) -> String {
        var out = ""
        for character in text {
            out.append(character)
            if character.isLetter { out += "\u{200B}" }
        }
        return out
    }
}
