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
/// With an audit log, every level-1 event (and the boot line) is also handed to it, whatever the
/// level in force: level-2 events carry bodies and credentials and never go there.
public final class EventLog: Sendable {
    public typealias Sink = @Sendable (String) -> Void

    private let currentLevel: NIOLockedValueBox<LogLevel>
    private let sink: Sink
    private let lock = NIOLock()
    private let audit: AuditLog?

    public init(level: LogLevel, sink: @escaping Sink = EventLog.standardError, audit: AuditLog? = nil) {
        self.currentLevel = NIOLockedValueBox(level)
        self.sink = sink
        self.audit = audit
    }

    /// The level in force; a reload may change it.
    public var level: LogLevel {
        get { currentLevel.withLockedValue { $0 } }
        set { currentLevel.withLockedValue { $0 = newValue } }
    }

    /// Whether events of `minimum` level are emitted; lets callers skip building costly payloads.
    public func isEnabled(_ minimum: LogLevel) -> Bool {
        level >= minimum || (audit != nil && minimum <= .blocks)
    }

    /// Emits `event` when the configured level is at least `minimum`. `audited: false` keeps it
    /// out of the audit log: the audit log's own failures and chain heads (they would feed it).
    public func emit(_ event: EgressEvent, minimum: LogLevel, audited: Bool = true) {
        let toStandardError = level >= minimum
        let toAudit = audited && audit != nil && minimum <= .blocks
        guard toStandardError || toAudit else { return }
        let line = event.json.serialized()
        if toAudit { audit?.append(line) }
        if toStandardError { write(line) }
    }

    /// The boot line is written at every level, including `off`.
    public func emitBoot(_ event: EgressEvent) {
        let line = event.json.serialized()
        audit?.append(line)
        write(line)
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
