import EgressTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An `egress run` child process whose stderr is captured to a file. `launcher` runs before the
/// executable (e.g. `ip netns exec NS setpriv …`), which the launcher execs in place, so the
/// process id is the proxy's own.
final class RunningEgress: Sendable {
    let process: ChildProcess
    let stderrPath: String

    init(
        arguments: [String],
        directory: TemporaryDirectory,
        executable: String = egressExecutable,
        launcher: [String] = [],
        environment: [String: String] = ["PATH": "/usr/bin:/bin"]
    ) throws {
        stderrPath = directory.file("egress.stderr")
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if let first = launcher.first {
            process = try ChildProcess(
                first,
                Array(launcher.dropFirst()) + [executable] + arguments,
                environment: environment,
                stderr: stderrPath
            )
        } else {
            process = try ChildProcess(executable, arguments, environment: environment, stderr: stderrPath)
        }
    }

    var stderrLines: [String] {
        ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The parsed events on stderr so far, optionally only those named `name`.
    func events(_ name: String? = nil) -> [[String: Any]] {
        stderrLines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .filter { name == nil || $0["event"] as? String == name }
    }

    func bootEvent() async throws -> [String: Any] {
        for _ in 0..<200 {
            if let first = stderrLines.first,
                let json = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any]
            {
                return json
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("egress did not boot: \(stderrLines.joined(separator: "\n"))")
    }

    /// The port of the boot line's `listen` address.
    func listenPort() async throws -> Int {
        let boot = try await bootEvent()
        guard let port = (boot["listen"] as? String)?.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw TestFailure("boot line without a listen port: \(boot)")
        }
        return port
    }

    /// The pids of the proxy's direct children (its scanner workers). Each thread lists the children
    /// it forked itself, and workers are spawned from the proxy's helper threads.
    var childPIDs: [Int32] {
        let pid = process.pid
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return threads.flatMap { thread in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    func terminate() async -> Int32 {
        process.signal(SIGTERM)
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        process.signal(SIGKILL)
        return await process.waitForExit()
    }
}

/// A test precondition that did not hold, with what was seen.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The fields of `/proc/PID/status` (`Uid`, `CapEff`, `Seccomp`, `NoNewPrivs`, …).
func processStatus(_ pid: Int32) throws -> [String: String] {
    let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
}
