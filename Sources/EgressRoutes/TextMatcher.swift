/// A compiled `paths` or `headers` value test.
enum TextMatcher: Sendable {
    case exact(String)
    case prefix(String)
    /// `nil` when the pattern did not compile (impossible for a parsed config): never matches.
    case regex(CompiledRegex?)

    init(path: PathMatch) {
        switch path.kind {
        case .exact: self = .exact(path.value)
        case .prefix: self = .prefix(path.value)
        case .regex: self = .regex(CompiledRegex(path.value))
        }
    }

    init(header: HeaderMatch) {
        switch header.kind {
        case .exact: self = .exact(header.value)
        case .prefix: self = .prefix(header.value)
        case .regex: self = .regex(CompiledRegex(header.value))
        }
    }

    /// Exact and prefix compare `String`s (Unicode canonical equivalence, case-sensitive); a regex must
    /// match the whole text.
    func matches(_ text: String) -> Bool {
        switch self {
        case .exact(let value): text == value
        case .prefix(let value): text.hasPrefix(value)
        case .regex(let regex): regex?.wholeMatches(text) ?? false
        }
    }
}

/// A regex compiled once and shared by every request, on any thread.
///
/// `Regex<AnyRegexOutput>` is not declared `Sendable` in this toolchain (Swift 6.3.1), hence
/// `@unchecked Sendable`. Sharing it is safe: a `Regex` is an immutable value wrapping a reference to its
/// `Program`; the only mutable state there is the lazily lowered bytecode, which the standard library
/// publishes with an atomic compare-and-swap (several threads racing compile identical programs and one
/// wins), and each match runs on its own per-call executor state. We also lower it eagerly in `init`, so
/// after construction every use is a read. The alternatives were worse: a lock around every match
/// serialises all event loops on one regex, and recompiling per request is far slower.
struct CompiledRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    /// `nil` when `pattern` does not compile.
    init?(_ pattern: String) {
        guard let regex = try? Regex(pattern) else { return nil }
        self.regex = regex
        _ = try? regex.wholeMatch(in: "")  // forces lowering before the value is shared
    }

    /// Whether the regex matches all of `text` (not just a part of it).
    func wholeMatches(_ text: String) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }
}
