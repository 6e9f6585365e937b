/// Bech32 (BIP 173) checksum verification, as used by age (`AGE-SECRET-KEY-1...`).
enum Bech32 {
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    private static let values: [Int8] = {
        var values = [Int8](repeating: -1, count: 128)
        for (index, character) in charset.enumerated() {
            values[Int(character)] = Int8(index)
            values[Int(ASCII.uppercased(character))] = Int8(index)
        }
        return values
    }()

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 {
                checksum ^= generator[bit]
            }
        }
        return checksum
    }

    static func expand(humanReadablePart hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Whether `string` is `<hrp>1<data><6 checksum chars>` with a valid bech32 checksum.
    /// Case-insensitive, but mixed case is rejected as BIP 173 requires.
    static func isValid<C: Collection<UInt8>>(_ string: C) -> Bool {
        let bytes = Array(string)
        let hasLower = bytes.contains { $0 &- 0x61 < 26 }
        let hasUpper = bytes.contains { $0 &- 0x41 < 26 }
        guard !(hasLower && hasUpper), let separator = bytes.lastIndex(of: UInt8(ascii: "1")),
            separator >= 1, bytes.count - separator - 1 >= 6
        else {
            return false
        }
        let hrp = bytes[..<separator].map(ASCII.lowercased)
        var data: [UInt8] = []
        data.reserveCapacity(bytes.count - separator - 1)
        for byte in bytes[(separator + 1)...] {
            guard byte < 128, values[Int(byte)] >= 0 else {
                return false
            }
            data.append(UInt8(values[Int(byte)]))
        }
        return polymod(expand(humanReadablePart: hrp) + data) == 1
    }
}
