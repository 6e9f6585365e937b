import Foundation
import Glibc
import IPC
import Testing

/// A real worker process spawned with ``IPC/WorkerSpawner`` for a test: send frames, read messages
/// with timeouts (poll(2)), and always reaped: ``finish()`` kills what is still running.
final class WorkerProcess {
    enum Event: Equatable {
        case message(WireMessage)
        case endOfFile
        case timedOut
        case rejected(FrameError)
    }

    /// The directory holding the test bundle, `egress-scanner` and `ScannerFaultsWorker`.
    static let buildDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()
    static let scannerPath = buildDirectory.appendingPathComponent("egress-scanner").path
    static let faultsWorkerPath = buildDirectory.appendingPathComponent("ScannerFaultsWorker").path

    let pid: Int32
    let socket: Int32
    private var decoder = FrameDecoder()
    private var termination: WorkerTermination?
    private var socketOpen = true

    init(executable: String, arguments: [String] = []) throws {
        let worker = try WorkerSpawner.spawn(executable: executable, arguments: arguments)
        pid = worker.pid
        socket = worker.socket
    }

    /// Spawns a worker and waits for its WorkerReady.
    static func ready(
        _ executable: String = scannerPath,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (WorkerProcess, WorkerReady) {
        let worker = try WorkerProcess(executable: executable)
        let event = worker.next(timeout: 10_000)
        guard case .message(.workerReady(let ready)) = event else {
            let ending = worker.finish()
            Issue.record("expected WorkerReady, got \(event); the worker \(ending)", sourceLocation: sourceLocation)
            throw WorkerTestError.notReady
        }
        return (worker, ready)
    }

    deinit {
        _ = finish()
    }

    func send(_ bytes: [UInt8]) {
        let sent = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        #expect(sent, "the worker closed its socket")
    }

    func send(_ request: ScanRequest) throws {
        send(try request.encodedFrame())
    }

    /// Sends `request` and returns the reply, or records an issue.
    func scan(
        _ request: ScanRequest,
        timeout: Int32 = 10_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws
        -> ScanReply
    {
        try send(request)
        let event = next(timeout: timeout)
        guard case .message(.scanReply(let reply)) = event else {
            Issue.record("expected a ScanReply, got \(event)", sourceLocation: sourceLocation)
            throw WorkerTestError.noReply
        }
        #expect(reply.id == request.id, sourceLocation: sourceLocation)
        return reply
    }

    /// The next message, EOF, a decoder rejection, or a timeout after `timeout` ms without one.
    func next(timeout: Int32) -> Event {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = Self.now() + Int(timeout)
        while true {
            do {
                if let message = try decoder.nextMessage() { return .message(message) }
            } catch {
                return .rejected(error)
            }
            let remaining = deadline - Self.now()
            guard remaining > 0 else { return .timedOut }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining))
            if ready < 0 && errno == EINTR { continue }
            guard ready == 1 else { return .timedOut }
            let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return .endOfFile }
            decoder.append(Array(buffer[0..<count]))
        }
    }

    /// Closes the parent's end: the worker sees EOF.
    func closeSocket() {
        if socketOpen {
            close(socket)
            socketOpen = false
        }
    }

    /// Waits up to `timeout` ms for the worker to end by itself; `nil` if it is still running.
    func waitForExit(timeout: Int32 = 10_000) -> WorkerTermination? {
        if let termination { return termination }
        let deadline = Self.now() + Int(timeout)
        repeat {
            if let ended = try? WorkerSpawner.reap(pid) {
                termination = ended
                return ended
            }
            usleep(5_000)
        } while Self.now() < deadline
        return nil
    }

    /// Kills the worker if it still runs, reaps it and closes the socket. Returns how it ended.
    @discardableResult
    func finish() -> WorkerTermination? {
        if termination == nil {
            if let ended = try? WorkerSpawner.reap(pid) {
                termination = ended
            } else {
                try? WorkerSpawner.kill(pid)
                termination = try? WorkerSpawner.waitForExit(pid)
            }
        }
        closeSocket()
        return termination
    }

    /// A line of `/proc/<pid>/status`, e.g. `Seccomp` → `2`.
    func status(_ field: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}

enum WorkerTestError: Error {
    case notReady
    case noReply
}

/// A request with sensible defaults.
func scanRequest(
    id: UInt64 = 1,
    direction: UInt8 = 0,
    detectorIDs: [String] = ["github_token_classic", "aws_access_key_id", "jwt"],
    redact: Bool = false,
    _ segments: [String]
) -> ScanRequest {
    ScanRequest(
        id: id,
        direction: direction,
        detectorIDs: detectorIDs,
        redact: redact,
        segments: segments.map { Array($0.utf8) }
    )
}

/// The SPEC's valid classic GitHub token (its checksum matches).
let validGitHubToken = "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"
