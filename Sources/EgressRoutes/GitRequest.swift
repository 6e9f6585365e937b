/// Git smart-HTTP requests, as far as route policy cares (README, "routes.yaml").
enum GitRequest: Equatable {
    /// `GET <repo>/info/refs?service=git-upload-pack` or `POST <repo>/git-upload-pack`.
    case fetch
    /// Anything addressed to the receive-pack service.
    case push
    case other

    /// Push is recognised generously (any method, decoded path, case-insensitive, trailing `/` ignored,
    /// any `service` parameter naming receive-pack) because misreading a push as something else could let
    /// it through; fetch is recognised strictly because it is what `git.fetch` adds to the allowlist.
    static func classify(method: String, target: RequestTarget) -> GitRequest {
        let services = target.queryValues(named: "service")
        var loosePath = Substring(target.decodedPath.lowercased())
        while loosePath.hasSuffix("/") { loosePath = loosePath.dropLast() }
        if loosePath.hasSuffix("/git-receive-pack")
            || (loosePath.hasSuffix("/info/refs") && services.contains { $0.lowercased() == "git-receive-pack" })
        {
            return .push
        }
        let path = target.decodedPath
        if method == "GET", path.hasSuffix("/info/refs"), !services.isEmpty,
            services.allSatisfy({ $0 == "git-upload-pack" })
        {
            return .fetch
        }
        if method == "POST", path.hasSuffix("/git-upload-pack") {
            return .fetch
        }
        return .other
    }
}
