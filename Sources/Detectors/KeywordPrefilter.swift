/// Decides, in one pass over the bytes, which detectors can possibly match: a table-driven
/// Aho-Corasick DFA over all prefilter keywords of a set of detectors, with ASCII case folding.
///
/// A detector is a candidate when each of its keyword groups had at least one keyword occur
/// (detectors without keywords always are). The pass stops early once every detector is a
/// candidate. Built once per distinct detector set and reused; not thread-safe (it keeps
/// per-scan scratch state), like the engine that owns it.
final class KeywordPrefilter {
    /// Engine indices of the detectors this prefilter serves, in slot order.
    let detectors: [Int]

    /// Number of byte classes (the DFA's alphabet after folding).
    private let classCount: Int
    /// Byte → class.
    private let classOf: UnsafeMutablePointer<UInt8>
    /// `table[state * classCount + class]` = next state, pre-multiplied by `classCount`.
    private let table: UnsafeMutablePointer<UInt32>
    private let tableCount: Int
    /// States at or beyond this (pre-multiplied) value have outputs.
    private let firstOutputState: UInt32
    /// For output state `s`: keyword ids `outputKeywords[outputStart[i]..<outputStart[i + 1]]`,
    /// where `i = (s - firstOutputState) / classCount`.
    private let outputStart: [Int]
    private let outputKeywords: [Int]
    /// For keyword `k`: (slot, group) pairs `targets[targetStart[k]..<targetStart[k + 1]]`.
    private let targetStart: [Int]
    private let targets: [(slot: Int, group: Int)]
    /// Per slot: the mask with one bit per keyword group; 0 for detectors without keywords.
    private let fullMask: [UInt64]
    private let slotsWithKeywords: Int

    // Per-scan scratch, reset at the start of every scan.
    private var seenKeyword: [Bool]
    private var groupMask: [UInt64]

    /// - Parameter keywordGroups: for each detector (slot order), its keyword groups.
    init(detectors: [Int], keywordGroups: [[[Keyword]]]) {
        precondition(detectors.count == keywordGroups.count)
        self.detectors = detectors

        // Distinct keywords, and which (slot, group) each one feeds.
        var keywordIDs: [[UInt8]: Int] = [:]
        var keywords: [[UInt8]] = []
        var keywordTargets: [[(slot: Int, group: Int)]] = []
        var fullMask = [UInt64](repeating: 0, count: detectors.count)
        for (slot, groups) in keywordGroups.enumerated() {
            precondition(groups.count <= 64, "at most 64 keyword groups per detector")
            for (group, members) in groups.enumerated() {
                precondition(!members.isEmpty, "empty keyword group")
                fullMask[slot] |= 1 << UInt64(group)
                for keyword in members {
                    let id: Int
                    if let existing = keywordIDs[keyword.bytes] {
                        id = existing
                    } else {
                        id = keywords.count
                        keywordIDs[keyword.bytes] = id
                        keywords.append(keyword.bytes)
                        keywordTargets.append([])
                    }
                    keywordTargets[id].append((slot, group))
                }
            }
        }
        self.fullMask = fullMask
        self.slotsWithKeywords = fullMask.count { $0 != 0 }

        var targetStart = [0]
        var targets: [(slot: Int, group: Int)] = []
        for list in keywordTargets {
            targets.append(contentsOf: list)
            targetStart.append(targets.count)
        }
        self.targetStart = targetStart
        self.targets = targets

        // Byte classes: one per distinct (folded) keyword byte, class 0 for everything else.
        var classOf = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for keyword in keywords {
            for byte in keyword where classOf[Int(byte)] == 0 {
                precondition(classCount < 256)
                classOf[Int(byte)] = UInt8(classCount)
                classCount += 1
            }
        }
        for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") {
            classOf[Int(upper)] = classOf[Int(upper | 0x20)]
        }
        self.classCount = classCount

        // Trie, then failure links and full transitions in BFS order.
        var transitions: [[Int32]] = [[Int32](repeating: -1, count: classCount)]
        var outputs: [[Int]] = [[]]
        for (id, keyword) in keywords.enumerated() {
            var state = 0
            for byte in keyword {
                let cls = Int(classOf[Int(byte)])
                if transitions[state][cls] < 0 {
                    transitions[state][cls] = Int32(transitions.count)
                    transitions.append([Int32](repeating: -1, count: classCount))
                    outputs.append([])
                }
                state = Int(transitions[state][cls])
            }
            outputs[state].append(id)
        }
        let stateCount = transitions.count
        var fail = [Int](repeating: 0, count: stateCount)
        var queue: [Int] = []
        queue.reserveCapacity(stateCount)
        for cls in 0..<classCount {
            let next = transitions[0][cls]
            if next < 0 {
                transitions[0][cls] = 0
            } else {
                fail[Int(next)] = 0
                queue.append(Int(next))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            outputs[state].append(contentsOf: outputs[fail[state]])
            for cls in 0..<classCount {
                let next = transitions[state][cls]
                if next < 0 {
                    transitions[state][cls] = transitions[fail[state]][cls]
                } else {
                    fail[Int(next)] = Int(transitions[fail[state]][cls])
                    queue.append(Int(next))
                }
            }
        }

        // Renumber: states without outputs first (the root stays 0), output states last, so
        // the hot loop needs a single comparison per byte.
        var newNumber = [Int](repeating: 0, count: stateCount)
        var order: [Int] = []
        order.reserveCapacity(stateCount)
        for state in 0..<stateCount where outputs[state].isEmpty {
            order.append(state)
        }
        let outputBase = order.count
        for state in 0..<stateCount where !outputs[state].isEmpty {
            order.append(state)
        }
        for (number, state) in order.enumerated() {
            newNumber[state] = number
        }

        self.tableCount = stateCount * classCount
        self.table = UnsafeMutablePointer<UInt32>.allocate(capacity: max(tableCount, 1))
        for (number, state) in order.enumerated() {
            for cls in 0..<classCount {
                let target = newNumber[Int(transitions[state][cls])]
                table[number * classCount + cls] = UInt32(target * classCount)
            }
        }
        self.firstOutputState = UInt32(outputBase * classCount)
        var outputStart = [0]
        var outputKeywords: [Int] = []
        for state in order[outputBase...] {
            outputKeywords.append(contentsOf: outputs[state])
            outputStart.append(outputKeywords.count)
        }
        self.outputStart = outputStart
        self.outputKeywords = outputKeywords

        self.classOf = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        self.classOf.initialize(from: classOf, count: 256)

        self.seenKeyword = [Bool](repeating: false, count: keywords.count)
        self.groupMask = [UInt64](repeating: 0, count: detectors.count)
    }

    deinit {
        table.deallocate()
        classOf.deallocate()
    }

    /// Engine indices of the detectors whose keyword groups are all satisfied by `bytes`.
    func candidates(in bytes: UnsafePointer<UInt8>, count: Int) -> [Int] {
        if slotsWithKeywords > 0 {
            for index in seenKeyword.indices {
                seenKeyword[index] = false
            }
            for index in groupMask.indices {
                groupMask[index] = 0
            }
            scanKeywords(bytes, count: count)
        }
        var result: [Int] = []
        for slot in detectors.indices where groupMask[slot] == fullMask[slot] {
            result.append(detectors[slot])
        }
        return result
    }

    private func scanKeywords(_ bytes: UnsafePointer<UInt8>, count: Int) {
        let table = self.table
        let classOf = self.classOf
        let threshold = firstOutputState
        var remaining = slotsWithKeywords
        var state: UInt32 = 0
        var index = 0
        while index < count {
            state = table[Int(state) &+ Int(classOf[Int(bytes[index])])]
            if state >= threshold {
                remaining = record(outputState: state, remaining: remaining)
                if remaining == 0 {
                    return
                }
            }
            index &+= 1
        }
    }

    /// Marks the keywords ending at an output state; returns how many detectors still lack
    /// one of their keyword groups.
    private func record(outputState state: UInt32, remaining: Int) -> Int {
        var remaining = remaining
        let outputIndex = Int(state - firstOutputState) / classCount
        for position in outputStart[outputIndex]..<outputStart[outputIndex + 1] {
            let keyword = outputKeywords[position]
            if seenKeyword[keyword] {
                continue
            }
            seenKeyword[keyword] = true
            for target in targets[targetStart[keyword]..<targetStart[keyword + 1]] {
                let before = groupMask[target.slot]
                let full = fullMask[target.slot]
                if before == full {
                    continue
                }
                let after = before | (1 << UInt64(target.group))
                groupMask[target.slot] = after
                if after == full {
                    remaining -= 1
                }
            }
        }
        return remaining
    }
}
