import Detectors
import EgressRoutes
import Testing

@testable import Planner

/// Generated manifests → plan → render → the sidecar's parser gives back exactly the plan's routes.
@Suite struct PlanRoundTripTests {
    static let iterations = 400

    @Test func generatedManifestsPlanIntoRoutesTheSidecarReadsBack() throws {
        var generator = ManifestGenerator(seed: 0x5EED_0008)
        var dropped = 0
        var shared = 0
        for iteration in 0..<Self.iterations {
            let model = generator.manifest()
            let text = generator.text(of: model)
            let manifest = try parseManifest(text)
            #expect(manifest == model, "iteration \(iteration):\n\(text)")

            let names = (0..<generator.count(0...4)).map { _ in generator.pick(Provider.builtInNames) }
            let providers = try Provider.select(names)
            let plan = try EgressPlan(manifest: manifest, providers: providers)

            let yaml = try plan.renderRoutes()
            let reread = try RoutesConfig.parse(
                yaml: yaml,
                file: "routes.yaml",
                knownDetectors: DetectorCatalog.knownIDs
            )
            #expect(reread == plan.routesConfig, "iteration \(iteration):\n\(yaml)")
            #expect(reread.routes == plan.routes.map(\.route))
            #expect(reread.log == manifest.log)

            try checkRules(plan: plan, manifest: manifest, providers: providers, iteration: iteration)
            dropped += plan.droppedRoutes.count
            shared += plan.tokenSlots.filter { $0.users.count > 1 }.count
        }
        // The generator reaches the interesting cases.
        #expect(dropped > 20)
        #expect(shared > 20)
    }

    /// The planning rules, checked independently of how `EgressPlan` applies them.
    func checkRules(plan: EgressPlan, manifest: EgressManifest, providers: [Provider], iteration: Int) throws {
        // Providers first, in order, with the redact default.
        #expect(plan.routes.prefix(providers.count).map(\.origin) == providers.map { .provider($0.name) })
        for (planned, provider) in zip(plan.routes, providers) {
            #expect(planned.route.host == provider.route.host)
            #expect(planned.route.dlp.outboundOnMatch == .redact)
            #expect(planned.route.matches == provider.route.matches)
        }
        // Then every manifest route no provider covers, in order and unchanged but for the slot.
        let kept = manifest.routes.enumerated().filter { _, route in !providers.contains { $0.covers(route.host) } }
        let planned = Array(plan.routes.dropFirst(providers.count))
        #expect(planned.map(\.origin) == kept.map { .manifest(index: $0.offset) }, "iteration \(iteration)")
        for (planned, (_, route)) in zip(planned, kept) {
            #expect(planned.route == route.route(tokenSlot: planned.route.auth?.tokenEnv))
            #expect(planned.tokenRef == route.auth?.tokenRef)
            #expect(planned.roles == route.roles)
        }
        #expect(plan.droppedRoutes.count == manifest.routes.count - kept.count)
        // Slots numbered by first use of each reference.
        var order: [String] = []
        for route in plan.routes {
            guard let ref = route.tokenRef else { continue }
            if !order.contains(ref) { order.append(ref) }
            #expect(route.route.auth?.tokenEnv == "EGRESS_TOKEN_\(order.firstIndex(of: ref)!)")
        }
        #expect(plan.tokenSlots.map(\.tokenRef) == order)
        // Every slot resolves into one env-file line.
        let environment = Dictionary(uniqueKeysWithValues: order.map { ($0, "value of \($0) = x") })
        let envFile = try plan.resolveTokens(environment: environment).envFile()
        #expect(envFile.split(separator: "\n").count == order.count)
    }
}
