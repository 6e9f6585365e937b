import Detectors
import IPC
import NIOCore
import NIOPosix

/// One scan through a real, sandboxed worker, outside the proxy: what `egress scan` runs.
public enum StandaloneScan {
    public struct Result: Sendable {
        public var findings: [Finding]
        public var redacted: [UInt8]?
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(
        executable: String,
        direction: ScanDirection,
        detectorIDs: [String],
        redact: Bool,
        bytes: [UInt8],
        timeout: TimeAmount
    ) async throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let reaper = NIOThreadPool(numberOfThreads: 1)
        reaper.start()
        let pool = ScannerPool(
            configuration: .init(executable: executable, workerCount: 1, scanTimeout: timeout),
            loop: group.next(),
            events: EventLog(level: .off) { _ in },
            reaper: reaper
        )
        let result: Swift.Result<Result, any Error>
        do {
            do {
                try await pool.start().get()
            } catch {
                throw Failure(description: "the scanner worker did not start (\(executable)): \(error)")
            }
            let job = ScanJob(direction: direction, detectorIDs: detectorIDs, redact: redact, segments: [bytes])
            let outcome: ScanOutcome
            do {
                outcome = try await pool.scan(job).get()
            } catch {
                throw Failure(description: (error as? ScanFailure ?? .workerError).reason)
            }
            result = .success(
                Result(
                    findings: outcome.findings.map {
                        Finding(detectorID: $0.detectorID, start: Int($0.start), end: Int($0.end))
                    },
                    redacted: outcome.redactedSegments?.first
                )
            )
        } catch {
            result = .failure(error)
        }
        try? await pool.shutdown().get()
        try? await group.shutdownGracefully()
        try? await reaper.shutdownGracefully()
        return try result.get()
    }
}
