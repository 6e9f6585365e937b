import CPCRE2

/// The match context shared by every pattern of one engine: limits plus a JIT stack, all
/// allocated up front so that matching never needs anything but memory.
final class PCRE2MatchContext {
    let context: OpaquePointer
    private let jitStack: OpaquePointer?

    init(limits: MatchLimits) throws(DetectorCompileError) {
        guard let context = pcre2_match_context_create_8(nil) else {
            throw DetectorCompileError(detectorID: "*", message: "cannot allocate a PCRE2 match context")
        }
        self.context = context
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)

        let maxStack = max(Int(limits.jitStackKiB), 32) * 1024
        if PCRE2Pattern.jitAvailable {
            guard let stack = pcre2_jit_stack_create_8(min(32 * 1024, maxStack), maxStack, nil) else {
                pcre2_match_context_free_8(context)
                throw DetectorCompileError(detectorID: "*", message: "cannot allocate a PCRE2 JIT stack")
            }
            pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(stack))
            self.jitStack = stack
        } else {
            self.jitStack = nil
        }
    }

    deinit {
        pcre2_match_context_free_8(context)
        if let jitStack {
            pcre2_jit_stack_free_8(jitStack)
        }
    }
}

/// One compiled (and, where possible, JIT-compiled) pattern with its own match data.
final class PCRE2Pattern {
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let ovector: UnsafeMutablePointer<Int>
    let usesJIT: Bool
    let captureCount: Int

    /// Whether this libpcre2 was built with JIT support.
    static let jitAvailable: Bool = {
        var value: UInt32 = 0
        return pcre2_config_8(UInt32(PCRE2_CONFIG_JIT), &value) >= 0 && value == 1
    }()

    /// PCRE2 writes this (`PCRE2_UNSET`, `~(PCRE2_SIZE)0`) into unset ovector slots.
    static let unset = Int(bitPattern: UInt.max)

    /// - Parameter anchored: compile with `PCRE2_ANCHORED`: a match may only start at the
    ///   start offset (JIT does not support that option at match time). Start-of-match
    ///   optimizations are off too: their forward search for a required character would scan
    ///   ahead of every anchor, quadratic on inputs with many anchors.
    init(source: String, detectorID: String, anchored: Bool = false) throws(DetectorCompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let utf8 = Array(source.utf8)
        let options: UInt32 = anchored ? UInt32(PCRE2_ANCHORED) | UInt32(PCRE2_NO_START_OPTIMIZE) : 0
        let compiled = utf8.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            let message = Self.errorMessage(errorCode)
            throw DetectorCompileError(detectorID: detectorID, message: "\(message) at offset \(errorOffset)")
        }
        self.code = compiled

        var captures: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        self.captureCount = Int(captures)

        guard let matchData = pcre2_match_data_create_from_pattern_8(compiled, nil) else {
            pcre2_code_free_8(compiled)
            throw DetectorCompileError(detectorID: detectorID, message: "cannot allocate PCRE2 match data")
        }
        self.matchData = matchData
        self.ovector = pcre2_get_ovector_pointer_8(matchData)

        if Self.jitAvailable {
            self.usesJIT = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        } else {
            self.usesJIT = false
        }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// Runs one match starting at `offset`. Returns PCRE2's result code (> 0 on a match,
    /// `PCRE2_ERROR_NOMATCH` when there is none, another negative code on failure).
    @inline(__always)
    func match(
        _ subject: UnsafePointer<UInt8>,
        length: Int,
        from offset: Int,
        context: PCRE2MatchContext
    ) -> Int32 {
        if usesJIT {
            return pcre2_jit_match_8(code, subject, length, offset, 0, matchData, context.context)
        }
        return pcre2_match_8(code, subject, length, offset, 0, matchData, context.context)
    }

    /// The byte range of capture `group` from the last successful match, or nil if unset.
    @inline(__always)
    func range(ofGroup group: Int) -> Range<Int>? {
        let start = ovector[2 * group]
        let end = ovector[2 * group + 1]
        guard start != Self.unset, end != Self.unset, start <= end else {
            return nil
        }
        return start..<end
    }

    static func errorMessage(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else {
            return "PCRE2 error \(code)"
        }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }

    /// The result codes that mean "a resource limit was hit": fail closed, never "no match".
    static func isLimitError(_ code: Int32) -> Bool {
        code == PCRE2_ERROR_MATCHLIMIT || code == PCRE2_ERROR_DEPTHLIMIT
            || code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_JIT_STACKLIMIT
    }
}
