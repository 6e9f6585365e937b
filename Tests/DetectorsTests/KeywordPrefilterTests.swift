import Testing

@testable import Detectors

@Suite("Keyword prefilter")
struct KeywordPrefilterTests {
    /// Reference: a detector is a candidate iff every group has a keyword occurring in the
    /// lower-cased text.
    private func naiveCandidates(_ groups: [[[Keyword]]], text: [UInt8]) -> [Int] {
        let lowered = text.map(ASCII.lowercased)
        return groups.indices.filter { index in
            groups[index].allSatisfy { group in
                group.contains { TestBytes.firstRange(of: $0.bytes, in: lowered) != nil }
            }
        }
    }

    @Test("agrees with a naive search on random keyword sets and texts")
    func randomized() {
        var factory = SecretFactory(seed: 1234)
        let alphabet = "abcAB-_:"
        for round in 0..<300 {
            let detectorCount = Int.random(in: 1...8, using: &factory.generator)
            var groups: [[[Keyword]]] = []
            for _ in 0..<detectorCount {
                let groupCount = Int.random(in: 0...3, using: &factory.generator)
                groups.append(
                    (0..<groupCount).map { _ in
                        (0..<Int.random(in: 1...3, using: &factory.generator)).map { _ in
                            Keyword(
                                stringLiteral: factory.random(
                                    alphabet,
                                    Int.random(in: 1...4, using: &factory.generator)
                                )
                            )
                        }
                    }
                )
            }
            let prefilter = KeywordPrefilter(detectors: Array(groups.indices), keywordGroups: groups)
            for _ in 0..<5 {
                let text = Array(
                    factory.random(alphabet + "xyz ", Int.random(in: 0...60, using: &factory.generator)).utf8
                )
                let got = text.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.map { prefilter.candidates(in: $0, count: buffer.count).map(\.detector) } ?? []
                }
                let expected =
                    text.isEmpty ? groups.indices.filter { groups[$0].isEmpty } : naiveCandidates(groups, text: text)
                #expect(got == expected, "round \(round): \(String(decoding: text, as: UTF8.self))")
            }
        }
    }

    @Test("matching is ASCII case-insensitive and byte-exact otherwise")
    func caseFolding() {
        let groups: [[[Keyword]]] = [[["ghp_"]], [[Keyword(bytes: [0xE2, 0x80, 0xAE])]], [["secret"], ["aws"]]]
        let prefilter = KeywordPrefilter(detectors: [10, 20, 30], keywordGroups: groups)
        func candidates(_ text: [UInt8]) -> [Int] {
            text.withUnsafeBufferPointer { prefilter.candidates(in: $0.baseAddress!, count: $0.count).map(\.detector) }
        }
        #expect(candidates(Array("x GHP_ y".utf8)) == [10])
        #expect(candidates(Array("AWS_SECRET".utf8)) == [30])
        #expect(candidates(Array("aws only".utf8)) == [])
        #expect(candidates(Array("a\u{202E}b".utf8)) == [20])
        #expect(candidates([0xC2, 0x80, 0xAE]) == [])
        // The scratch state resets between scans.
        #expect(candidates(Array("nothing".utf8)) == [])
    }

    /// All start offsets of `keyword` in `text`, ASCII case-insensitively.
    private func occurrences(of keyword: [UInt8], in text: [UInt8]) -> [Int] {
        let lowered = text.map(ASCII.lowercased)
        guard keyword.count <= lowered.count else {
            return []
        }
        return (0...(lowered.count - keyword.count)).filter {
            lowered[$0..<($0 + keyword.count)].elementsEqual(keyword)
        }
    }

    @Test("long buffers walked in four lanes lose nothing at the seams, and anchors are exact")
    func lanesAndAnchors() {
        var factory = SecretFactory(seed: 4321)
        let groups: [[[Keyword]]] = [[["needle"]], [["you", "from"], ["now"]], [["#x#"]], [["zz"]]]
        let prefilter = KeywordPrefilter(
            detectors: [0, 1, 2, 3],
            keywordGroups: groups,
            anchorGroups: [nil, 0, nil, nil]
        )
        for length in [4096, 4097, 5000, 10_007, 65_536] {
            for _ in 0..<10 {
                var text = Array(factory.random("abc ", length).utf8)
                // Plant keywords around the lane seams and at random places.
                let quarter = length / 4
                for seam in [quarter, 2 * quarter, 3 * quarter] {
                    let keyword = ["needle", "YOU", "#x#", "from", "now"].randomElement(using: &factory.generator)!
                    let start = max(0, seam - Int.random(in: 0..<keyword.utf8.count, using: &factory.generator))
                    for (offset, byte) in keyword.utf8.enumerated() where start + offset < length {
                        text[start + offset] = byte
                    }
                }
                if Bool.random(using: &factory.generator) {
                    text.replaceSubrange((length - 3)..<length, with: Array("now".utf8))
                }
                let got = text.withUnsafeBufferPointer { prefilter.candidates(in: $0.baseAddress!, count: $0.count) }
                #expect(got.map(\.detector) == naiveCandidates(groups, text: text))
                if let anchored = got.first(where: { $0.detector == 1 }) {
                    let expected =
                        (occurrences(of: Array("you".utf8), in: text) + occurrences(of: Array("from".utf8), in: text))
                        .sorted()
                    #expect(anchored.anchors == expected.map(UInt32.init))
                }
                #expect(got.allSatisfy { ($0.anchors != nil) == ($0.detector == 1) })
            }
        }
    }
}
