extension RoutesConfig {
    /// A few human lines for `egress check`: a header, then one line per route, e.g.
    ///
    ///     routes.yaml: OK, 3 routes, log: blocks
    ///       api.github.com  auth=token(EGRESS_TOKEN_0)  matches=2  git.fetch  dlp.out=default/supervise dlp.in=default/warn
    ///
    /// Names environment variables, never their values.
    public func summary(file: String) -> String {
        var lines = ["\(file): OK, \(routes.count) route\(routes.count == 1 ? "" : "s"), log: \(log.label)"]
        for route in routes {
            var fields = [route.host.description]
            fields.append(route.auth.map { "auth=\($0.scheme.rawValue)(\($0.tokenEnv))" } ?? "auth=none")
            fields.append("matches=\(route.matches.map { String($0.count) } ?? "any")")
            if route.gitFetch { fields.append("git.fetch") }
            fields.append(
                "dlp.out=\(Self.label(route.dlp.outboundDetectors))/\(route.dlp.effectiveOutboundOnMatch.rawValue)"
                    + " dlp.in=\(Self.label(route.dlp.inboundDetectors))/\(route.dlp.effectiveInboundOnMatch.rawValue)"
            )
            lines.append("  " + fields.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    private static func label(_ selection: DetectorSelection) -> String {
        switch selection {
        case .defaultSet: "default"
        case .off: "off"
        case .only(let names): names.joined(separator: ",")
        }
    }
}
