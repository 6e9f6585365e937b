/// IPv6 address text, parsed and written back in the canonical form of RFC 5952 (lowercase, no leading
/// zeros, the longest run of two or more zero groups shortened to `::`), so that `0:0::1` and `::1` name
/// the same host. Zone ids (`%eth0`) are not accepted.
enum IPv6Literal {
    /// The canonical text of `text`, or `nil` when it is not an IPv6 address.
    static func canonical(_ text: String) -> String? {
        guard let groups = parse(text) else { return nil }
        return render(groups)
    }

    static func parse(_ text: String) -> [UInt16]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        switch halves.count {
        case 1:
            guard let groups = parseGroups(halves[0]), groups.count == 8 else { return nil }
            return groups
        case 2:
            guard let head = parseGroups(halves[0]), let tail = parseGroups(halves[1]),
                head.count + tail.count <= 7
            else { return nil }
            return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        default:
            return nil
        }
    }

    /// Colon-separated hex groups; the last may be a dotted IPv4 address (two groups). `""` is no groups.
    private static func parseGroups(_ text: String) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, part.contains(".") {
                guard let v4 = parseIPv4(part) else { return nil }
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
            } else {
                guard (1...4).contains(part.utf8.count), part.utf8.allSatisfy(\.isHexDigit),
                    let value = UInt16(part, radix: 16)
                else { return nil }
                groups.append(value)
            }
        }
        return groups
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy(ConfigText.isASCIIDigit),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func render(_ groups: [UInt16]) -> String {
        // The longest run of at least two zero groups, leftmost on a tie.
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < groups.count, groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = index..<end }
            index = end
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard let best else { return hex(groups[...]) }
        return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        ConfigText.isASCIIDigit(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
