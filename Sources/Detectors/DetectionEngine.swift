import CPCRE2

/// Compiles and JIT-compiles every detector once, then scans buffers with any subset of them.
///
/// Everything that needs more than memory happens in `init` (pattern compilation, JIT
/// compilation, JIT stack and match context allocation), so a worker can lock itself down
/// with seccomp right after constructing the engine. `scan` does no I/O and uses no
/// Foundation. Not thread-safe: one engine per worker process (or per thread).
public final class DetectionEngine {
    /// The definitions this engine was built from, in catalog order.
    public let definitions: [DetectorDefinition]
    public let limits: MatchLimits

    private let indexByID: [String: Int]
    private let patterns: [PCRE2Pattern]
    /// Anchored compilations, for definitions with an anchor group.
    private let anchoredPatterns: [PCRE2Pattern?]
    private let matchContext: PCRE2MatchContext
    /// Prefilters per distinct (sorted) detector set; bounded, see ``prefilter(for:)``.
    private var prefilters: [[Int]: KeywordPrefilter] = [:]
    private static let maximumCachedPrefilters = 64

    public init(
        definitions: [DetectorDefinition] = DetectorCatalog.all,
        limits: MatchLimits = .standard
    ) throws(DetectorCompileError) {
        var indexByID: [String: Int] = [:]
        var patterns: [PCRE2Pattern] = []
        var anchoredPatterns: [PCRE2Pattern?] = []
        patterns.reserveCapacity(definitions.count)
        for (index, definition) in definitions.enumerated() {
            guard indexByID.updateValue(index, forKey: definition.id) == nil else {
                throw DetectorCompileError(detectorID: definition.id, message: "duplicate detector id")
            }
            let pattern = try PCRE2Pattern(source: definition.pattern, detectorID: definition.id)
            guard definition.secretGroup >= 0, definition.secretGroup <= pattern.captureCount else {
                throw DetectorCompileError(
                    detectorID: definition.id,
                    message: "secret group \(definition.secretGroup) but the pattern has \(pattern.captureCount) groups"
                )
            }
            patterns.append(pattern)
            if let anchorGroup = definition.anchorGroup {
                guard definition.keywordGroups.indices.contains(anchorGroup) else {
                    throw DetectorCompileError(
                        detectorID: definition.id,
                        message: "anchor group \(anchorGroup) does not exist"
                    )
                }
                anchoredPatterns.append(
                    try PCRE2Pattern(source: definition.pattern, detectorID: definition.id, anchored: true)
                )
            } else {
                anchoredPatterns.append(nil)
            }
        }
        self.definitions = definitions
        self.limits = limits
        self.indexByID = indexByID
        self.patterns = patterns
        self.anchoredPatterns = anchoredPatterns
        self.matchContext = try PCRE2MatchContext(limits: limits)

        // The sets almost every scan uses: build their automata now, not on the first scan.
        for direction in ScanDirection.allCases {
            let indices = definitions.indices.filter { definitions[$0].direction == direction }
            if !indices.isEmpty {
                _ = prefilter(for: indices)
            }
        }
    }

    /// Whether every pattern was JIT-compiled (false only on a libpcre2 without JIT).
    public var usesJIT: Bool {
        patterns.allSatisfy(\.usesJIT) && anchoredPatterns.allSatisfy { $0?.usesJIT ?? true }
    }

    /// The named detectors resolved for scanning: a request resolves its detector ids once, not
    /// once per segment (each resolution hashes every id and the set). Throws on an unknown id.
    public func selection(detectorIDs: [String]) throws(DetectionError) -> ResolvedDetectors {
        var indices: [Int] = []
        indices.reserveCapacity(detectorIDs.count)
        for id in detectorIDs {
            guard let index = indexByID[id] else {
                throw DetectionError.unknownDetector(id)
            }
            indices.append(index)
        }
        indices.sort()
        indices = indices.uniquedSorted()
        return ResolvedDetectors(detectorIDs: detectorIDs, indices: indices, prefilter: indices.isEmpty ? nil : prefilter(for: indices))
    }

    /// Scans `bytes` with the named detectors. Findings are sorted by start offset (then end,
    /// then detector id). Throws on an unknown id or when any match hits a limit: a thrown
    /// scan has not established that the buffer is clean.
    public func scan(_ bytes: UnsafeRawBufferPointer, detectorIDs: [String]) throws(DetectionError) -> [Finding] {
        try scan(bytes, selection: selection(detectorIDs: detectorIDs))
    }

    /// Scans `bytes` with a selection this engine made (see above).
    public func scan(_ bytes: UnsafeRawBufferPointer, selection: ResolvedDetectors) throws(DetectionError) -> [Finding] {
        guard !bytes.isEmpty, let prefilter = selection.prefilter, let base = bytes.baseAddress else {
            return []
        }
        let subject = base.assumingMemoryBound(to: UInt8.self)
        let buffer = UnsafeBufferPointer(start: subject, count: bytes.count)
        let candidates = prefilter.candidates(in: subject, count: bytes.count)

        var findings: [Finding] = []
        for candidate in candidates {
            if let anchors = candidate.anchors {
                try collect(detector: candidate.detector, at: anchors, in: buffer, into: &findings)
            } else {
                try collect(detector: candidate.detector, in: buffer, into: &findings)
            }
        }
        findings.sort { lhs, rhs in
            if lhs.start != rhs.start {
                return lhs.start < rhs.start
            }
            if lhs.end != rhs.end {
                return lhs.end < rhs.end
            }
            return lhs.detectorID < rhs.detectorID
        }
        return findings
    }

    public func scan(_ bytes: [UInt8], detectorIDs: [String]) throws(DetectionError) -> [Finding] {
        try scan(bytes, selection: selection(detectorIDs: detectorIDs))
    }

    public func scan(_ bytes: [UInt8], selection: ResolvedDetectors) throws(DetectionError) -> [Finding] {
        // `withUnsafeBytes` rethrows untyped; carry the typed error out by hand.
        let result: Result<[Finding], DetectionError> = bytes.withUnsafeBytes { raw in
            do throws(DetectionError) {
                return .success(try scan(raw, selection: selection))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Runs one detector's regex over the whole buffer, validating each hit.
    private func collect(
        detector index: Int,
        in buffer: UnsafeBufferPointer<UInt8>,
        into findings: inout [Finding]
    )
        throws(DetectionError)
    {
        let pattern = patterns[index]
        var offset = 0
        while offset <= buffer.count {
            guard let whole = try match(pattern, detector: index, in: buffer, from: offset) else {
                return
            }
            let accepted = accept(detector: index, pattern: pattern, in: buffer, into: &findings)
            // After a rejected hit, retry one byte later: a valid match may overlap it.
            offset = accepted ? max(whole.upperBound, whole.lowerBound + 1) : whole.lowerBound + 1
        }
    }

    /// Runs one detector's anchored regex at each anchor position (sorted), with the same
    /// results as the unanchored scan: every match starts at an anchor.
    private func collect(
        detector index: Int,
        at anchors: [UInt32],
        in buffer: UnsafeBufferPointer<UInt8>,
        into findings: inout [Finding]
    ) throws(DetectionError) {
        guard let pattern = anchoredPatterns[index] else {
            return try collect(detector: index, in: buffer, into: &findings)
        }
        var next = 0
        for anchor in anchors where Int(anchor) >= next {
            guard let whole = try match(pattern, detector: index, in: buffer, from: Int(anchor)) else {
                continue
            }
            let accepted = accept(detector: index, pattern: pattern, in: buffer, into: &findings)
            next = accepted ? max(whole.upperBound, whole.lowerBound + 1) : whole.lowerBound + 1
        }
    }

    /// One match from `offset`: the whole match's range, or nil when there is none. Limits
    /// and errors throw.
    @inline(__always)
    private func match(
        _ pattern: PCRE2Pattern,
        detector index: Int,
        in buffer: UnsafeBufferPointer<UInt8>,
        from offset: Int
    )
        throws(DetectionError) -> Range<Int>?
    {
        let code = pattern.match(buffer.baseAddress!, length: buffer.count, from: offset, context: matchContext)
        if code == PCRE2_ERROR_NOMATCH {
            return nil
        }
        if code < 0 {
            if PCRE2Pattern.isLimitError(code) {
                throw DetectionError.limitExceeded(detectorID: definitions[index].id)
            }
            throw DetectionError.matchFailed(detectorID: definitions[index].id, code: code)
        }
        guard let whole = pattern.range(ofGroup: 0) else {
            throw DetectionError.matchFailed(detectorID: definitions[index].id, code: code)
        }
        return whole
    }

    /// Validates the last match of `pattern`; appends and returns true if it is a finding.
    private func accept(
        detector index: Int,
        pattern: PCRE2Pattern,
        in buffer: UnsafeBufferPointer<UInt8>,
        into findings: inout [Finding]
    ) -> Bool {
        let definition = definitions[index]
        guard let secret = pattern.range(ofGroup: definition.secretGroup), !secret.isEmpty,
            definition.accepts(secret: secret, in: buffer)
        else {
            return false
        }
        findings.append(Finding(detectorID: definition.id, start: secret.lowerBound, end: secret.upperBound))
        return true
    }

    /// The prefilter for a sorted, duplicate-free detector set, built on first use.
    private func prefilter(for indices: [Int]) -> KeywordPrefilter {
        if let cached = prefilters[indices] {
            return cached
        }
        if prefilters.count >= Self.maximumCachedPrefilters {
            prefilters.removeAll(keepingCapacity: true)
        }
        let prefilter = KeywordPrefilter(
            detectors: indices,
            keywordGroups: indices.map { definitions[$0].keywordGroups },
            anchorGroups: indices.map { definitions[$0].anchorGroup }
        )
        prefilters[indices] = prefilter
        return prefilter
    }
}
