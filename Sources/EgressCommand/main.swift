import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `egress`: the sidecar and its operator commands (README, "Command line").
struct Egress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "egress",
        abstract: "Egress proxy sidecar for sandboxed AI coding agents.",
        subcommands: [
            RunCommand.self, CheckCommand.self, CACommand.self, PlanCommand.self, ScanCommand.self,
            SuperviseCommand.self, HealthCommand.self, AuditCommand.self,
        ]
    )
}

/// Every failure ends as one line on stderr and exit status 1 (never ArgumentParser's 64, never a
/// stack trace); `--help` still prints to stdout and exits 0.
func runEgress() async -> Never {
    do {
        var command = try Egress.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
        exit(0)
    } catch let error as CommandFailure {
        FileHandle.standardError.write(Data("egress: \(error.message)\n".utf8))
        exit(error.exitStatus)
    } catch let error as ExitCode {
        exit(error.rawValue)
    } catch {
        let code = Egress.exitCode(for: error)
        if code == .success {
            print(Egress.fullMessage(for: error))
            exit(0)
        }
        let message = Egress.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
        FileHandle.standardError.write(Data("egress: \(message)\n".utf8))
        // `egress scan` reports errors as 2, so that 1 keeps meaning "findings".
        exit(CommandLine.arguments.dropFirst().first == "scan" ? 2 : 1)
    }
}

await runEgress()
