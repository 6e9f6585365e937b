import ArgumentParser
import Foundation

struct StateDirectoryOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "Where the CA lives (default: $EGRESS_STATE_DIR, else ./.egress).")
    var stateDirectory: String?

    var resolved: String {
        if let stateDirectory { return stateDirectory }
        if let fromEnvironment = ProcessInfo.processInfo.environment["EGRESS_STATE_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "./.egress"
    }
}
