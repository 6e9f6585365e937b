/// Detectors resolved by one engine for one set of ids (``DetectionEngine/selection(detectorIDs:)``):
/// the ids a request named, and what the engine needs to scan with them.
public struct ResolvedDetectors {
    /// The ids as requested, so a caller can reuse the selection for the same list.
    public let detectorIDs: [String]
    let indices: [Int]
    /// Nil when no detector is selected: nothing to scan for.
    let prefilter: KeywordPrefilter?
}
