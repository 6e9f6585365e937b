import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Running the real binaries the way a container runs them: as an unprivileged user with no
/// capabilities. Tests run as root (CI does); these helpers drop to `nobody` for the child only.
enum Unprivileged {
    static let uid: uid_t = 65534
    static let gid: gid_t = 65534

    /// `setpriv` prefix: uid/gid 65534, no supplementary groups, an empty capability bounding set
    /// and no inheritable capabilities, so nothing the child execs can gain one.
    static let launcher = [
        "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--inh-caps=-all",
        "--bounding-set=-all",
    ]

    /// These tests need root to drop privileges from; without it they fail, naming why.
    static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw TestFailure("this test starts the proxy as uid 65534 and needs to run as root (scripts/test.sh does)")
        }
    }

    /// A directory the unprivileged child owns (its state directory).
    static func makeOwnedDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard chown(path, uid, gid) == 0, chmod(path, 0o700) == 0 else {
            throw TestFailure("cannot hand \(path) to uid \(uid): \(String(cString: strerror(errno)))")
        }
    }

    /// Lets the unprivileged child traverse and read `path` (test temporary directories are 0700).
    static func makeReadable(_ path: String) throws {
        guard chmod(path, 0o755) == 0 else {
            throw TestFailure("cannot chmod \(path): \(String(cString: strerror(errno)))")
        }
    }
}

extension RunningEgress {
    /// The binaries installed by scripts/install.sh, run as nobody on 127.0.0.1 with `routes` and
    /// `--scanners 2`, trusting `pki` for upstreams and dialing each `(host, port)` of `connectTo` on
    /// 127.0.0.1. The state directory is `directory/state`.
    static func unprivileged(
        in directory: TemporaryDirectory,
        pki: TestPKI,
        routes: String,
        connectTo: [(host: String, port: Int)],
        environment: [String: String] = [:],
        extraArguments: [String] = [],
        reusing previous: InstalledEgress? = nil
    ) async throws -> (running: RunningEgress, installed: InstalledEgress, state: String) {
        try Unprivileged.makeReadable(directory.path)
        let installed: InstalledEgress
        if let previous {
            installed = previous
        } else {
            installed = try await InstalledEgress.install(into: directory)
        }
        let state = directory.file("state")
        if previous == nil { try Unprivileged.makeOwnedDirectory(state) }
        try pki.writeRoot(to: directory.file("upstream-ca.pem"))
        try routes.write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0", "--state-dir", state,
                "--scanners", "2", "--allow-private-upstreams", "--upstream-ca", directory.file("upstream-ca.pem"),
            ] + connectTo.flatMap { ["--connect-to", "\($0.host):443:127.0.0.1:\($0.port)"] } + extraArguments,
            directory: directory,
            executable: installed.egress,
            launcher: Unprivileged.launcher,
            environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        )
        return (running, installed, state)
    }
}
