import EgressRoutes
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The operator-facing event stream (README, "Event log"): one JSON object per line, filtered by level.
///
/// Lines are written whole under a lock, so events from concurrent connections never interleave.
public final class EventLog: Sendable {
    public typealias Sink = @Sendable (String) -> Void

    private let currentLevel: NIOLockedValueBox<LogLevel>
    private let sink: Sink
    private let lock = NIOLock()

    public init(level: LogLevel, sink: @escaping Sink = EventLog.standardError) {
        self.currentLevel = NIOLockedValueBox(level)
        self.sink = sink
    }

    /// The level in force; a reload may change it.
    public var level: LogLevel {
        get { currentLevel.withLockedValue { $0 } }
        set { currentLevel.withLockedValue { $0 = newValue } }
    }

    /// Whether events of `minimum` level are emitted; lets callers skip building costly payloads.
    public func isEnabled(_ minimum: LogLevel) -> Bool { level >= minimum }

    /// Emits `event` when the configured level is at least `minimum`.
    public func emit(_ event: EgressEvent, minimum: LogLevel) {
        guard level >= minimum else { return }
        write(event.json.serialized())
    }

    /// The boot line is written at every level, including `off`.
    public func emitBoot(_ event: EgressEvent) {
        write(event.json.serialized())
    }

    private func write(_ line: String) {
        lock.withLock { sink(line) }
    }

    /// Writes `line` and a newline to fd 2 with as few `write(2)` calls as the kernel allows,
    /// retrying on partial writes so a long line is never split by another writer.
    public static let standardError: Sink = { line in
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        writeFully(fileDescriptor: 2, bytes)
    }
}

/// write(2) until every byte is out or the descriptor fails (EINTR is retried).
@discardableResult
func writeFully(fileDescriptor: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
