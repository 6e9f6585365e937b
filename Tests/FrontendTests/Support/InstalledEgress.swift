import Foundation

/// `egress` and `egress-scanner` installed by `scripts/install.sh` — the script the Dockerfile
/// installs with — from the binaries built next to the test bundle, into a temporary prefix any
/// user can read (the build tree may sit under a directory only root can enter).
struct InstalledEgress {
    let prefix: String

    var egress: String { prefix + "/bin/egress" }
    var scanner: String { prefix + "/bin/egress-scanner" }

    /// The package root, found from this file's place in it.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static func install(into directory: TemporaryDirectory) async throws -> InstalledEgress {
        let prefix = directory.file("prefix")
        let builtDirectory = URL(fileURLWithPath: egressExecutable).deletingLastPathComponent().path
        let result = try await runProcess(
            "/bin/bash",
            [packageRoot.appendingPathComponent("scripts/install.sh").path, "--from", builtDirectory, "--prefix", prefix],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        guard result.status == 0 else {
            throw TestFailure("scripts/install.sh failed (\(result.status)): \(result.stderr)")
        }
        return InstalledEgress(prefix: prefix)
    }
}
