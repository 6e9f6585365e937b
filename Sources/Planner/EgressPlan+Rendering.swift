import Detectors
import EgressRoutes

extension EgressPlan {
    /// routes.yaml for this plan, written by the sidecar's own renderer (`RoutesConfig.render()`) and read back
    /// with the sidecar's parser before it is returned: the text is only handed out if it parses, with the
    /// detector catalog, to exactly `routesConfig`. So the sidecar accepts every file the planner writes.
    public func renderRoutes(knownDetectors: Set<String>? = DetectorCatalog.knownIDs) throws(PlanError) -> String {
        let config = routesConfig
        let text = config.render()
        let reread: RoutesConfig
        do {
            reread = try RoutesConfig.parse(yaml: text, file: "routes.yaml", knownDetectors: knownDetectors)
        } catch {
            throw .unverifiedRendering(error.description)
        }
        guard reread == config else { throw .unverifiedRendering("it reads back as a different config") }
        return text
    }

    /// What `egress plan` prints: the files written, the token map (slot → host variable, never a value) and
    /// the manifest routes a provider replaced.
    ///
    ///     wrote out/routes.yaml: 2 routes, log: blocks
    ///     wrote out/egress.env: 2 token slots
    ///     token map (sidecar variable <- host variable):
    ///       EGRESS_TOKEN_0 <- ANTHROPIC_API_KEY  api.anthropic.com (--provider anthropic)
    ///       EGRESS_TOKEN_1 <- GITHUB_TOKEN       api.github.com (egress.routes[0])
    ///     dropped egress.routes[1] (api.anthropic.com): --provider anthropic covers that host
    public func summary(routesPath: String, envPath: String) -> String {
        var lines = [
            "wrote \(routesPath): \(count(routes.count, "route")), log: \(log.label)",
            "wrote \(envPath): \(count(tokenSlots.count, "token slot"))",
        ]
        if tokenSlots.isEmpty {
            lines.append("token map: empty (no route injects a credential)")
        } else {
            lines.append("token map (sidecar variable <- host variable):")
            let slotWidth = tokenSlots.map(\.slot.count).max() ?? 0
            let refWidth = tokenSlots.map(\.tokenRef.count).max() ?? 0
            for slot in tokenSlots {
                let users = slot.users.map(\.description).joined(separator: ", ")
                lines.append("  \(pad(slot.slot, slotWidth)) <- \(pad(slot.tokenRef, refWidth))  \(users)")
            }
        }
        for route in droppedRoutes {
            lines.append(
                "dropped \(RouteOrigin.manifest(index: route.manifestIndex)) (\(route.host)): "
                    + "--provider \(route.provider) covers that host"
            )
        }
        return lines.joined(separator: "\n")
    }
}

private func count(_ number: Int, _ noun: String) -> String {
    "\(number) \(noun)\(number == 1 ? "" : "s")"
}

private func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
