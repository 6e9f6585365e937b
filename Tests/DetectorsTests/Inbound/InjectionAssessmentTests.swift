import Testing

@testable import Detectors

/// How inbound findings add up to a document's severity (README, "How inbound findings are judged").
@Suite("Injection assessment")
struct InjectionAssessmentTests {
    @Test("the highest severity, raised a level when two detectors agree, never above high")
    func score() {
        #expect(InjectionAssessment.score([String]()) == nil)
        #expect(InjectionAssessment.score(["prompt_injection_role_marker"]) == .low)
        #expect(InjectionAssessment.score(["prompt_injection_role_marker", "prompt_injection_role_marker"]) == .low, "one detector twice is one")
        #expect(InjectionAssessment.score(["prompt_injection_role_marker", "bidi_control"]) == .medium)
        #expect(InjectionAssessment.score(["prompt_injection_override"]) == .medium)
        #expect(InjectionAssessment.score(["prompt_injection_override", "prompt_injection_role_marker"]) == .high)
        #expect(InjectionAssessment.score(["prompt_injection_hidden_html", "prompt_injection_override"]) == .high)
        #expect(InjectionAssessment.score(["github_token_classic"]) == nil, "outbound detectors have no severity")
    }

    @Test("every inbound detector has a severity, and no outbound one has")
    func severities() {
        for definition in DetectorCatalog.all {
            #expect((definition.severity != nil) == (definition.direction == .inbound), "\(definition.id)")
        }
        #expect(InjectionSeverity(name: "medium") == .medium)
        #expect(InjectionSeverity(name: "Medium") == nil)
    }
}
