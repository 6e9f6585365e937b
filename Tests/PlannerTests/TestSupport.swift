import EgressRoutes

@testable import Planner

/// A host pattern known to be valid.
func host(_ text: String) -> HostPattern {
    do {
        return try HostPattern(text)
    } catch {
        preconditionFailure("test host pattern \(text) is invalid: \(error)")
    }
}

/// Parses `yaml` as a bottle manifest named `bottle.yaml` (with the detector catalog).
func parseManifest(_ yaml: String) throws(RoutesConfigError) -> EgressManifest {
    try EgressManifest.parse(yaml: yaml, file: "bottle.yaml")
}

/// The error parsing `yaml` as a manifest, or `nil` when it was accepted.
func manifestFailure(_ yaml: String) -> RoutesConfigError? {
    do {
        _ = try parseManifest(yaml)
        return nil
    } catch {
        return error
    }
}

/// The error `body` throws, or `nil`.
func planFailure<T>(_ body: () throws(PlanError) -> T) -> PlanError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A manifest with one route for each `(host, token_ref)`; `nil` for a route without auth.
func makeManifest(_ routes: [(String, String?)], log: LogLevel = .off) -> EgressManifest {
    EgressManifest(
        log: log,
        routes: routes.map { host, ref in
            ManifestRoute(host: hostPattern(host), auth: ref.map { ManifestAuth(scheme: .bearer, tokenRef: $0) })
        }
    )
}

private func hostPattern(_ text: String) -> HostPattern { host(text) }
