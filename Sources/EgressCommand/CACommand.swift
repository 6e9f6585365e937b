import ArgumentParser
import Frontend

struct CACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the CA that agents trust (created on first use, never overwritten).",
        subcommands: [Init.self, Path.self, Export.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the CA if the state directory has none.")
        @OptionGroup var state: StateDirectoryOption

        func run() async throws {
            let (_, created) = try loadOrCreateAuthority(stateDirectory: state.resolved)
            let path = CertificateAuthority.certificatePath(stateDirectory: state.resolved)
            print(created ? "created \(path)" : "exists \(path)")
        }
    }

    struct Path: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the path of the CA certificate.")
        @OptionGroup var state: StateDirectoryOption

        func run() async throws {
            _ = try loadOrCreateAuthority(stateDirectory: state.resolved)
            print(CertificateAuthority.certificatePath(stateDirectory: state.resolved))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the CA certificate (PEM) for agents to trust.")
        @OptionGroup var state: StateDirectoryOption

        func run() async throws {
            let (authority, _) = try loadOrCreateAuthority(stateDirectory: state.resolved)
            print(authority.certificatePEM, terminator: "")
        }
    }
}

func loadOrCreateAuthority(stateDirectory: String) throws -> (CertificateAuthority, created: Bool) {
    do {
        let result = try CertificateAuthority.loadOrCreate(stateDirectory: stateDirectory)
        return (result.authority, result.created)
    } catch {
        throw CommandFailure(error.description)
    }
}
