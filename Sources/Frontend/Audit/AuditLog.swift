import Dispatch
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--audit-log FILE` (README, "Audit log"): every level-≥1 event, hash-chained, appended off the
/// event loops and fsynced once per batch; rotated by size into `FILE.1` … `FILE.<keep>` with the
/// chain running on across files.
///
/// Events are handed over without blocking. At most `maxPending` events or `maxPendingBytes` bytes
/// wait; more are dropped, counted, and the count is written into the chain itself (`egress_audit`
/// `dropped`), so a gap is on record — as are the events of a batch whose write failed (the file
/// is cut back to whole records). Failures go to `onFailure` at most once per 10 s; what it
/// reports must not come back here (it would feed itself).
public final class AuditLog: Sendable {
    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Rotation: Sendable {
        /// A file reaching this size is rotated before the next batch.
        public var maxBytes: Int
        /// Rotated files kept; the oldest beyond is removed.
        public var keep: Int

        public init(maxBytes: Int = 64 << 20, keep: Int = 10) {
            self.maxBytes = maxBytes
            self.keep = keep
        }
    }

    private struct Queued {
        var lines: [(event: String, at: Date)] = []
        var bytes = 0
        var dropped = 0
        var draining = false
    }

    private struct File {
        var descriptor: Int32
        var size: Int
        var chain: AuditChain
        /// Events not in the file: a failed write's batch. Recorded with the next batch.
        var lost = 0
        var rotationRetryAfter: Date?
        var lastFailureReport: Date?
        var suppressedFailures = 0
        var lastHeadReport = Date()
    }

    public let path: String
    let rotation: Rotation
    private let maxPending: Int
    private let maxPendingBytes: Int
    private let queued = NIOLockedValueBox(Queued())
    /// Touched only on `queue`.
    private let file: NIOLockedValueBox<File>
    private let queue = DispatchQueue(label: "egress.audit-log")
    private let onFailure: @Sendable (String) -> Void
    private let onHead: @Sendable (AuditChain) -> Void

    /// Opens (or creates, mode 0600) `path`, locks it against a second writer, and finds where its
    /// chain stands. A file whose last line is incomplete or not a record stops start-up: the
    /// chain cannot be continued honestly. `onHead` is told where the chain stands at most once a
    /// minute and when it closes, so a copy of it can live elsewhere (the stderr event stream).
    public init(
        path: String,
        rotation: Rotation = Rotation(),
        maxPending: Int = 65_536,
        maxPendingBytes: Int = 64 << 20,
        onFailure: @escaping @Sendable (String) -> Void,
        onHead: @escaping @Sendable (AuditChain) -> Void = { _ in }
    ) throws(OpenError) {
        self.path = path
        self.rotation = rotation
        self.maxPending = maxPending
        self.maxPendingBytes = maxPendingBytes
        self.onFailure = onFailure
        self.onHead = onHead
        let descriptor = try Self.openLocked(path)
        var chain: AuditChain?
        do throws(OpenError) {
            chain = try Self.tail(of: path)
            if chain == nil { chain = try Self.tail(of: path + ".1") }
        } catch {
            closeDescriptor(descriptor)
            throw error
        }
        var status = stat()
        fstat(descriptor, &status)
        file = NIOLockedValueBox(File(descriptor: descriptor, size: Int(status.st_size), chain: chain ?? AuditChain()))
        append(EgressEvent(name: "egress_audit", fields: [("status", .string("started"))]).json.serialized())
    }

    /// Hands an event (a serialized JSON object) to the writer.
    public func append(_ event: String, at date: Date = Date()) {
        let schedule: Bool = queued.withLockedValue { queued in
            guard queued.lines.count < maxPending, queued.bytes + event.utf8.count <= maxPendingBytes else {
                queued.dropped += 1
                return false
            }
            queued.lines.append((event, date))
            queued.bytes += event.utf8.count
            guard !queued.draining else { return false }
            queued.draining = true
            return true
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Waits until everything handed over so far is written and synced.
    public func flush() {
        queue.sync {}
    }

    /// Writes what is queued, closes the file, and tells `onHead` where the chain ends.
    public func close() {
        flush()
        let head: AuditChain? = queue.sync {
            file.withLockedValue { file in
                guard file.descriptor >= 0 else { return nil }
                closeDescriptor(file.descriptor)
                file.descriptor = -1
                return file.chain
            }
        }
        if let head { onHead(head) }
    }

    /// The chain as it stands after the last record written (tests).
    var chain: AuditChain { queue.sync { file.withLockedValue { $0.chain } } }

    private func drain() {
        while true {
            let (batch, dropped): ([(event: String, at: Date)], Int) = queued.withLockedValue { queued in
                defer {
                    queued.lines.removeAll(keepingCapacity: true)
                    queued.bytes = 0
                    queued.dropped = 0
                }
                if queued.lines.isEmpty && queued.dropped == 0 { queued.draining = false }
                return (queued.lines, queued.dropped)
            }
            if batch.isEmpty && dropped == 0 { return }
            write(batch, dropped: dropped)
        }
    }

    private func write(_ batch: [(event: String, at: Date)], dropped: Int) {
        let now = Date()
        var failure: String?
        var head: AuditChain?
        file.withLockedValue { file in
            guard file.descriptor >= 0 else { return }
            if file.size >= rotation.maxBytes, file.size > 0, (file.rotationRetryAfter ?? .distantPast) <= now {
                if let problem = rotate(&file) {
                    file.rotationRetryAfter = now.addingTimeInterval(60)
                    failure = problem + "; trying again in 60 s"
                }
            }
            var events = batch
            let missing = dropped + file.lost
            if missing > 0 {
                let record = EgressEvent(
                    name: "egress_audit",
                    fields: [("status", .string("dropped")), ("count", .int(missing))]
                )
                events.insert((record.json.serialized(), now), at: 0)
            }
            var chain = file.chain
            var bytes: [UInt8] = []
            for (event, date) in events {
                bytes += Array(chain.seal(event, at: date).utf8)
                bytes.append(UInt8(ascii: "\n"))
            }
            guard writeFully(fileDescriptor: file.descriptor, bytes), fsync(file.descriptor) == 0 else {
                let reason = String(cString: strerror(errno))
                // Whole records only: what this batch left is cut off, and the chain stays where it was.
                _ = ftruncate(file.descriptor, off_t(file.size))
                file.lost = missing + batch.count
                failure = "cannot write \(path): \(reason); \(file.lost) events are not in the audit log yet"
                return
            }
            file.lost = 0
            file.size += bytes.count
            file.chain = chain
            if now.timeIntervalSince(file.lastHeadReport) >= 60 {
                file.lastHeadReport = now
                head = chain
            }
        }
        if let failure { report(failure, at: now) }
        if let head { onHead(head) }
    }

    /// At most one report per 10 s, with the number left unreported since.
    private func report(_ failure: String, at now: Date) {
        let suppressed: Int? = file.withLockedValue { file in
            if let last = file.lastFailureReport, now.timeIntervalSince(last) < 10 {
                file.suppressedFailures += 1
                return nil
            }
            defer {
                file.lastFailureReport = now
                file.suppressedFailures = 0
            }
            return file.suppressedFailures
        }
        guard let suppressed else { return }
        onFailure(suppressed > 0 ? "\(failure) (\(suppressed) more failures since the last report)" : failure)
    }

    /// `FILE.<keep-1>` → `FILE.<keep>`, …, `FILE` → `FILE.1`, and a fresh `FILE`. The fresh file is
    /// created first: if that fails nothing has moved. `nil` on success, else what went wrong.
    private func rotate(_ file: inout File) -> String? {
        let next = path + ".next"
        unlink(next)
        let fresh: Int32
        do throws(OpenError) {
            fresh = try Self.openLocked(next)
        } catch {
            return "cannot rotate: \(error.description)"
        }
        unlink("\(path).\(rotation.keep)")
        for index in stride(from: rotation.keep - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        guard rename(path, "\(path).1") == 0 else {
            let reason = String(cString: strerror(errno))
            closeDescriptor(fresh)
            unlink(next)
            return "cannot rotate \(path): \(reason)"
        }
        guard rename(next, path) == 0 else {
            // The records go on in FILE.next; a later rotation (or the operator) moves it.
            let reason = String(cString: strerror(errno))
            closeDescriptor(file.descriptor)
            file.descriptor = fresh
            file.size = 0
            return "cannot move \(next) to \(path): \(reason)"
        }
        closeDescriptor(file.descriptor)
        file.descriptor = fresh
        file.size = 0
        return nil
    }

    /// Opens `path` for appending (created 0600, never through a symlink) and takes an exclusive lock:
    /// two writers would fork the chain.
    private static func openLocked(_ path: String) throws(OpenError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw OpenError(description: "--audit-log \(path): cannot open: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            closeDescriptor(descriptor)
            throw OpenError(description: "--audit-log \(path): another process is writing it (locked)")
        }
        return descriptor
    }

    /// The chain after the last record of `path`; `nil` for a missing or empty file.
    static func tail(of path: String) throws(OpenError) -> AuditChain? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw OpenError(description: "--audit-log \(path): cannot read: \(String(cString: strerror(errno)))")
        }
        defer { closeDescriptor(descriptor) }
        let size = Int(lseek(descriptor, 0, SEEK_END))
        guard size > 0 else { return nil }
        // A record is one event: far below 1 MiB (paths and reasons are bounded by the head limit).
        let window = min(size, 1 << 20)
        var bytes = [UInt8](repeating: 0, count: window)
        let read = pread(descriptor, &bytes, window, off_t(size - window))
        guard read == window else {
            throw OpenError(description: "--audit-log \(path): cannot read its end")
        }
        guard bytes.last == UInt8(ascii: "\n") else {
            throw OpenError(
                description: "--audit-log \(path): the last line is incomplete (cut short by a crash?); "
                    + "check it with `egress audit verify \(path)` and move it aside"
            )
        }
        let body = bytes.dropLast()
        let start = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
        guard start > body.startIndex || window == size else {
            throw OpenError(description: "--audit-log \(path): the last line is longer than 1 MiB; not an audit log")
        }
        guard let chain = AuditChain.after(record: body[start...]) else {
            throw OpenError(description: "--audit-log \(path): the last line is not an audit record; not an audit log")
        }
        return chain
    }
}

/// `close(2)`, named apart from ``AuditLog/close()``.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
