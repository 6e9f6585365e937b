import EgressTestSupport
import Foundation

struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a real program (curl, git, the egress binary) with output captured through files, so a
/// chatty child can never block on a full pipe.
func runProcess(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    currentDirectory: String? = nil
) async throws -> ProcessResult {
    let directory = try TemporaryDirectory()
    let outPath = directory.file("stdout")
    let errPath = directory.file("stderr")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let child = try ChildProcess(
        executable,
        arguments,
        environment: environment,
        currentDirectory: currentDirectory,
        stdout: outPath,
        stderr: errPath
    )
    let status = await child.waitForExit()
    return ProcessResult(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    )
}

/// curl through the proxy, trusting the proxy's CA. `-s` keeps progress meters out of stderr.
func curl(_ harness: ProxyHarness, _ arguments: [String]) async throws -> ProcessResult {
    try await runProcess(
        "/usr/bin/curl",
        ["-sS", "--max-time", "30", "--proxy", harness.proxyURL, "--cacert", harness.caPath] + arguments,
        environment: ["PATH": "/usr/bin:/bin"]
    )
}

/// The `egress` executable built next to the test bundle.
var egressExecutable: String { siblingExecutable("egress") }

/// A program built next to the test bundle (`egress`, `egress-scanner`, `ScannerFaultsWorker`).
func siblingExecutable(_ name: String) -> String {
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    return bundle.appendingPathComponent(name).path
}
