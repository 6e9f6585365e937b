/// Runs of hex digits that decode to text (`xxd -p`, hex-encoded config values): decoded like base64
/// runs, each mapped back to its whole run. Hashes and ids decode to binary and are left alone.
enum HexRuns {
    /// 16 encoded bytes at least: shorter runs cannot hide a token.
    static let minimumRunLength = 32

    static func decode(_ source: [UInt8], maxPieces: Int = .max) -> Decoded? {
        var builder = DecodedBuilder(capacity: source.count / 2, maxPieces: maxPieces)
        var index = 0
        while index < source.count, !builder.exceeded {
            guard PercentDecoding.hexValue(source[index]) != nil else {
                index += 1
                continue
            }
            var end = index
            while end < source.count, PercentDecoding.hexValue(source[end]) != nil { end += 1 }
            if end - index >= minimumRunLength {
                var text: [UInt8] = []
                text.reserveCapacity((end - index) / 2)
                var position = index
                while position + 1 < end, let high = PercentDecoding.hexValue(source[position]),
                    let low = PercentDecoding.hexValue(source[position + 1])
                {
                    text.append(high << 4 | low)
                    position += 2
                }
                if Base64Runs.isText(text) { builder.decoded(text + [0x0A], from: index..<end) }
            }
            index = end
        }
        return builder.finish()
    }
}
