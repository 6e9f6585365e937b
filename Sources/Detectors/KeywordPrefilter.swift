/// Decides, in one pass over the bytes, which detectors can possibly match: a table-driven
/// Aho-Corasick DFA over all prefilter keywords of a set of detectors, with ASCII case folding.
///
/// A detector is a candidate when each of its keyword groups had at least one keyword occur
/// (detectors without keywords always are). For detectors with an anchor group, the pass also
/// collects where each of that group's keywords starts. Unless some detector needs anchors,
/// the pass stops early once every detector is a candidate.
///
/// A DFA step is one dependent load, so a single walk is bound by load latency; long buffers
/// are cut into four lanes walked in the same loop (each lane starts early by the longest
/// keyword's length minus one, so no occurrence is lost at a seam; duplicates are harmless).
///
/// Built once per distinct detector set and reused; not thread-safe (it keeps per-scan
/// scratch state), like the engine that owns it.
final class KeywordPrefilter {
    /// A detector that can match, with the sorted start offsets of its anchor keywords when it
    /// has an anchor group (32-bit: anchors are only collected for buffers under 4 GiB).
    struct Candidate {
        let detector: Int
        let anchors: [UInt32]?
    }

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
    /// Per keyword: its length, and the slots it is an anchor keyword for.
    private let keywordLength: [Int]
    private let anchorSlots: [[Int]]
    /// Per slot: whether it collects anchors.
    private let anchored: [Bool]
    private let hasAnchors: Bool
    /// The longest keyword, for lane overlaps.
    private let maximumKeywordLength: Int

    /// Per-scan state. Only what a scan touched is reset after it, so a short segment costs its
    /// own bytes, not the catalog's size; and a scan works on it as one local value, without the
    /// run-time exclusivity check every access to a class's stored array would pay.
    private struct Scratch {
        var seenKeyword: [Bool]
        var groupMask: [UInt64]
        var anchorStarts: [[UInt32]]
        /// Keywords, slots and anchor slots set by this scan, to reset after it.
        var touchedKeywords: [Int] = []
        var touchedSlots: [Int] = []
        var touchedAnchorSlots: [Int] = []
        /// Whether this scan collects anchors.
        var collectsAnchors = false

        mutating func reset() {
            for keyword in touchedKeywords { seenKeyword[keyword] = false }
            for slot in touchedSlots { groupMask[slot] = 0 }
            for slot in touchedAnchorSlots { anchorStarts[slot].removeAll(keepingCapacity: true) }
            touchedKeywords.removeAll(keepingCapacity: true)
            touchedSlots.removeAll(keepingCapacity: true)
            touchedAnchorSlots.removeAll(keepingCapacity: true)
        }
    }

    private var scratch: Scratch

    /// Buffers shorter than this are walked in one lane.
    static let laneThreshold = 4096

    /// - Parameters:
    ///   - keywordGroups: for each detector (slot order), its keyword groups.
    ///   - anchorGroups: for each detector, the index of its anchor group, if any.
    init(detectors: [Int], keywordGroups: [[[Keyword]]], anchorGroups: [Int?]? = nil) {
        precondition(detectors.count == keywordGroups.count)
        let anchorGroups = anchorGroups ?? Array(repeating: nil, count: detectors.count)
        precondition(anchorGroups.count == detectors.count)
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
        self.keywordLength = keywords.map(\.count)
        self.maximumKeywordLength = keywords.map(\.count).max() ?? 1
        var anchorSlots = [[Int]](repeating: [], count: keywords.count)
        for (id, list) in keywordTargets.enumerated() {
            for target in list where anchorGroups[target.slot] == target.group {
                anchorSlots[id].append(target.slot)
            }
        }
        self.anchorSlots = anchorSlots
        self.anchored = anchorGroups.map { $0 != nil }
        self.hasAnchors = anchorGroups.contains { $0 != nil }

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

        self.scratch = Scratch(
            seenKeyword: [Bool](repeating: false, count: keywords.count),
            groupMask: [UInt64](repeating: 0, count: detectors.count),
            anchorStarts: [[UInt32]](repeating: [], count: detectors.count)
        )
    }

    deinit {
        table.deallocate()
        classOf.deallocate()
    }

    /// The detectors whose keyword groups are all satisfied by `bytes`, in slot order. For a
    /// buffer of 4 GiB or more no anchors are collected (`anchors` is nil throughout).
    func candidates(in bytes: UnsafePointer<UInt8>, count: Int) -> [Candidate] {
        // Taken out of the object for the scan (no copy: it stays uniquely referenced).
        var scratch = Scratch(seenKeyword: [], groupMask: [], anchorStarts: [])
        swap(&scratch, &self.scratch)
        defer {
            scratch.reset()
            swap(&scratch, &self.scratch)
        }
        scratch.collectsAnchors = hasAnchors && count < Int(UInt32.max)
        if slotsWithKeywords > 0 {
            scanKeywords(bytes, count: count, &scratch)
        }
        var result: [Candidate] = []
        for slot in detectors.indices where scratch.groupMask[slot] == fullMask[slot] {
            if anchored[slot] && scratch.collectsAnchors {
                // Lanes overlap and keywords end out of start order: sort, drop duplicates.
                scratch.anchorStarts[slot].sort()
                result.append(Candidate(detector: detectors[slot], anchors: scratch.anchorStarts[slot].uniquedSorted()))
            } else {
                result.append(Candidate(detector: detectors[slot], anchors: nil))
            }
        }
        return result
    }

    private func scanKeywords(_ bytes: UnsafePointer<UInt8>, count: Int, _ scratch: inout Scratch) {
        let overlap = maximumKeywordLength - 1
        guard count >= Self.laneThreshold, count / 4 > overlap else {
            _ = walk(bytes, from: 0, to: count, state: 0, remaining: slotsWithKeywords, &scratch)
            return
        }
        let table = self.table
        let classOf = self.classOf
        let threshold = firstOutputState
        let quarter = count / 4
        let steps = quarter + overlap
        let base0 = 0
        let base1 = quarter - overlap
        let base2 = 2 * quarter - overlap
        let base3 = 3 * quarter - overlap
        var state0: UInt32 = 0
        var state1: UInt32 = 0
        var state2: UInt32 = 0
        var state3: UInt32 = 0
        var remaining = slotsWithKeywords
        var step = 0
        while step < steps {
            state0 = table[Int(state0) &+ Int(classOf[Int(bytes[base0 &+ step])])]
            state1 = table[Int(state1) &+ Int(classOf[Int(bytes[base1 &+ step])])]
            state2 = table[Int(state2) &+ Int(classOf[Int(bytes[base2 &+ step])])]
            state3 = table[Int(state3) &+ Int(classOf[Int(bytes[base3 &+ step])])]
            if state0 >= threshold || state1 >= threshold || state2 >= threshold || state3 >= threshold {
                if state0 >= threshold {
                    remaining = record(outputState: state0, end: base0 &+ step, remaining: remaining, &scratch)
                }
                if state1 >= threshold {
                    remaining = record(outputState: state1, end: base1 &+ step, remaining: remaining, &scratch)
                }
                if state2 >= threshold {
                    remaining = record(outputState: state2, end: base2 &+ step, remaining: remaining, &scratch)
                }
                if state3 >= threshold {
                    remaining = record(outputState: state3, end: base3 &+ step, remaining: remaining, &scratch)
                }
                if remaining == 0 && !scratch.collectsAnchors {
                    return
                }
            }
            step &+= 1
        }
        // Lane 3 ends at 4 * quarter; it walks on through the remainder.
        _ = walk(bytes, from: base3 + steps, to: count, state: state3, remaining: remaining, &scratch)
    }

    /// One lane from `start` to `end`; returns the remaining count.
    private func walk(
        _ bytes: UnsafePointer<UInt8>,
        from start: Int,
        to end: Int,
        state: UInt32,
        remaining: Int,
        _ scratch: inout Scratch
    ) -> Int {
        let table = self.table
        let classOf = self.classOf
        let threshold = firstOutputState
        var state = state
        var remaining = remaining
        var index = start
        while index < end {
            state = table[Int(state) &+ Int(classOf[Int(bytes[index])])]
            if state >= threshold {
                remaining = record(outputState: state, end: index, remaining: remaining, &scratch)
                if remaining == 0 && !scratch.collectsAnchors {
                    return 0
                }
            }
            index &+= 1
        }
        return remaining
    }

    /// Marks the keywords ending at an output state (last byte at `end`); returns how many
    /// detectors still lack one of their keyword groups.
    private func record(outputState state: UInt32, end: Int, remaining: Int, _ scratch: inout Scratch) -> Int {
        var remaining = remaining
        let outputIndex = Int(state - firstOutputState) / classCount
        for position in outputStart[outputIndex]..<outputStart[outputIndex + 1] {
            let keyword = outputKeywords[position]
            if scratch.collectsAnchors {
                for slot in anchorSlots[keyword] {
                    if scratch.anchorStarts[slot].isEmpty { scratch.touchedAnchorSlots.append(slot) }
                    scratch.anchorStarts[slot].append(UInt32(truncatingIfNeeded: end + 1 - keywordLength[keyword]))
                }
            }
            if scratch.seenKeyword[keyword] {
                continue
            }
            scratch.seenKeyword[keyword] = true
            scratch.touchedKeywords.append(keyword)
            for target in targets[targetStart[keyword]..<targetStart[keyword + 1]] {
                let before = scratch.groupMask[target.slot]
                let full = fullMask[target.slot]
                if before == full {
                    continue
                }
                if before == 0 { scratch.touchedSlots.append(target.slot) }
                let after = before | (1 << UInt64(target.group))
                scratch.groupMask[target.slot] = after
                if after == full {
                    remaining -= 1
                }
            }
        }
        return remaining
    }
}

extension Array where Element: Equatable {
    /// Drops adjacent duplicates (on a sorted array: all duplicates).
    func uniquedSorted() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        for element in self where result.last != element {
            result.append(element)
        }
        return result
    }
}
