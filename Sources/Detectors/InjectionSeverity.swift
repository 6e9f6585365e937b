/// How strongly an inbound finding suggests an attack (README, "How inbound findings are judged").
/// A route's `inbound_on_match` applies to documents that reach its `inbound_threshold`; lower ones
/// are only logged (`egress_warn`).
public enum InjectionSeverity: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Seen in honest documents too (chat-template tokens, directional marks, tool-call JSON):
    /// alone it is only logged, next to another finding it raises the document one level.
    case low = 1
    /// An instruction aimed at the reader with no other sign (an override phrase, a fake turn).
    case medium = 2
    /// Structure no honest document has: text hidden from people but addressed to an AI, a
    /// secret-reading or exfiltrating instruction, a poisoned tool description, smuggled text.
    case high = 3

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = found
    }
}

/// A document's severity from the inbound findings in it: the highest one, raised a level when
/// two or more different detectors agree (an attack rarely uses one trick alone; an honest
/// document rarely trips two). Pure.
public enum InjectionAssessment {
    /// A detector without a severity (an outbound one named in `inbound_detectors`) counts as
    /// `high`: a finding nobody graded is not waved through.
    public static func score(_ detectorIDs: some Sequence<String>) -> InjectionSeverity? {
        let distinct = Set(detectorIDs)
        let severities = distinct.map { DetectorCatalog.severity(of: $0) ?? .high }
        guard let highest = severities.max() else { return nil }
        guard severities.count >= 2, highest < .high else { return highest }
        return InjectionSeverity(rawValue: highest.rawValue + 1)
    }
}
