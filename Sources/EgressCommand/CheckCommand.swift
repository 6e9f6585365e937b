import ArgumentParser
import Detectors
import EgressRoutes

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a routes file and print a summary (exit 0 valid, 1 invalid)."
    )

    @Option(name: .customLong("routes"), help: "The routes.yaml to check.")
    var routesPath: String

    func run() async throws {
        let config: RoutesConfig
        do {
            config = try RoutesConfig.load(path: routesPath, knownDetectors: DetectorCatalog.knownIDs)
        } catch {
            throw CommandFailure(error.description)
        }
        print(config.summary(file: routesPath))
    }
}
