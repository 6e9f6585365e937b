import ArgumentParser
import Foundation
import Planner

/// `egress plan`: a bottle manifest's `egress:` section (plus built-in providers) → the sidecar's routes.yaml
/// and env file (README, "From a manifest to a running sidecar").
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Turn a bottle manifest's egress: section into routes.yaml and egress.env for the sidecar.",
        discussion: """
            Writes DIR/routes.yaml and DIR/egress.env (both mode 0600; the env file is for docker run \
            --env-file) only once everything is valid and every token variable is set, then prints the token \
            map (sidecar variable <- host variable, never a value).
            """
    )

    @Option(
        name: .customLong("manifest"),
        help: ArgumentHelp("The bottle manifest whose egress: section to plan.", valueName: "file")
    )
    var manifestPath: String

    @Option(
        name: .customLong("out"),
        help: ArgumentHelp("The directory to write routes.yaml and egress.env into.", valueName: "dir")
    )
    var outDirectory: String

    @Option(
        name: .customLong("provider"),
        help: ArgumentHelp(
            "A built-in provider route to add: \(Provider.builtInNames.joined(separator: ", ")) (repeatable).",
            valueName: "name"
        )
    )
    var providerNames: [String] = []

    func run() async throws {
        let providers: [Provider]
        do {
            providers = try Provider.select(providerNames)
        } catch {
            throw CommandFailure("--provider: \(error.description)")
        }
        let manifest: EgressManifest
        do {
            manifest = try EgressManifest.load(path: manifestPath)
        } catch {
            throw CommandFailure(error.description)
        }
        let writer = PlanWriter(directory: outDirectory)
        let plan: EgressPlan
        let routesYAML: String
        let tokens: ResolvedTokens
        do {
            plan = try EgressPlan(manifest: manifest, providers: providers)
            routesYAML = try plan.renderRoutes()
            tokens = try plan.resolveTokens(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CommandFailure("\(manifestPath): \(error.description)")
        }
        do {
            try writer.write(routesYAML: routesYAML, tokens: tokens)
        } catch {
            throw CommandFailure(error.description)
        }
        print(plan.summary(routesPath: writer.routesPath, envPath: writer.envPath))
    }
}
