@testable import EgressRoutes

/// Parses `yaml` as `routes.yaml` and returns the error, or `nil` when it was accepted.
func parseFailure(_ yaml: String, knownDetectors: Set<String>? = nil) -> RoutesConfigError? {
    do {
        _ = try RoutesConfig.parse(yaml: yaml, file: "routes.yaml", knownDetectors: knownDetectors)
        return nil
    } catch {
        return error
    }
}

/// A host pattern known to be valid.
func host(_ text: String) -> HostPattern {
    do {
        return try HostPattern(text)
    } catch {
        preconditionFailure("test host pattern \(text) is invalid: \(error)")
    }
}

/// routes.yaml text with one route for `api.github.com` whose remaining lines are `body` (indented 4).
func oneRoute(_ body: String) -> String {
    let indented = body.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? "" : "    " + $0 }
        .joined(separator: "\n")
    return "routes:\n  - host: api.github.com\n\(indented)\n"
}
