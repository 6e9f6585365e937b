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
/// Events are handed over without blocking. At most `maxPending` wait; more are dropped, counted,
/// and the count is written into the chain itself (`egress_audit` `dropped`), so a gap is on record.
/// A failed write is rolled back (the file keeps whole records only) and reported through `onFailure`.
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
        var dropped = 0
        var draining = false
    }

    private struct File {
        var descriptor: Int32
        var size: Int
        var chain: AuditChain
    }

    public let path: String
    let rotation: Rotation
    private let maxPending: Int
    private let queued = NIOLockedValueBox(Queued())
    /// Touched only on `queue`.
    private let file: NIOLockedValueBox<File>
    private let queue = DispatchQueue(label: "egress.audit-log")
    private let onFailure: @Sendable (String) -> Void

    /// Opens (or creates, mode 0600) `path` and finds where its chain stands. A file whose last
    /// line is incomplete or not a record stops start-up: the chain cannot be continued honestly.
    public init(
        path: String,
        rotation: Rotation = Rotation(),
        maxPending: Int = 65_536,
        onFailure: @escaping @Sendable (String) -> Void
    ) throws(OpenError) {
        self.path = path
        self.rotation = rotation
        self.maxPending = maxPending
        self.onFailure = onFailure
        var chain = try Self.tail(of: path)
        if chain == nil, rotation.keep > 0 { chain = try Self.tail(of: path + ".1") }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OpenError(description: "--audit-log \(path): cannot open: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        fstat(descriptor, &status)
        file = NIOLockedValueBox(File(descriptor: descriptor, size: Int(status.st_size), chain: chain ?? AuditChain()))
        append(EgressEvent(name: "egress_audit", fields: [("status", .string("started"))]).json.serialized())
    }

    /// Hands an event (a serialized JSON object) to the writer.
    public func append(_ event: String, at date: Date = Date()) {
        let schedule: Bool = queued.withLockedValue { queued in
            guard queued.lines.count < maxPending else {
                queued.dropped += 1
                return false
            }
            queued.lines.append((event, date))
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

    /// Writes what is queued and closes the file.
    public func close() {
        flush()
        queue.sync {
            file.withLockedValue { file in
                if file.descriptor >= 0 { closeDescriptor(file.descriptor) }
                file.descriptor = -1
            }
        }
    }

    /// The chain as it stands after the last record written (tests, and the verify hint).
    var chain: AuditChain { queue.sync { file.withLockedValue { $0.chain } } }

    private func drain() {
        while true {
            let (batch, dropped): ([(event: String, at: Date)], Int) = queued.withLockedValue { queued in
                defer {
                    queued.lines.removeAll(keepingCapacity: true)
                    queued.dropped = 0
                }
                if queued.lines.isEmpty && queued.dropped == 0 { queued.draining = false }
                return (queued.lines, queued.dropped)
            }
            if batch.isEmpty && dropped == 0 { return }
            var events = batch
            if dropped > 0 {
                let record = EgressEvent(
                    name: "egress_audit",
                    fields: [("status", .string("dropped")), ("count", .int(dropped))]
                )
                events.insert((record.json.serialized(), Date()), at: 0)
            }
            write(events)
        }
    }

    private func write(_ events: [(event: String, at: Date)]) {
        file.withLockedValue { file in
            guard file.descriptor >= 0 else { return }
            if file.size >= rotation.maxBytes, file.size > 0 { rotate(&file) }
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
                onFailure("cannot write \(path): \(reason); \(events.count) events are not in the audit log")
                return
            }
            file.size += bytes.count
            file.chain = chain
        }
    }

    /// `FILE.<keep-1>` → `FILE.<keep>`, …, `FILE` → `FILE.1`, and a fresh `FILE`.
    private func rotate(_ file: inout File) {
        guard rotation.keep > 0 else { return }
        unlink("\(path).\(rotation.keep)")
        for index in stride(from: rotation.keep - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        guard rename(path, "\(path).1") == 0 else {
            onFailure("cannot rotate \(path): \(String(cString: strerror(errno)))")
            return
        }
        let fresh = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fresh >= 0 else {
            onFailure("cannot create \(path) after rotating: \(String(cString: strerror(errno)))")
            return
        }
        closeDescriptor(file.descriptor)
        file.descriptor = fresh
        file.size = 0
    }

    /// The chain after the last record of `path`; `nil` for a missing or empty file.
    static func tail(of path: String) throws(OpenError) -> AuditChain? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
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
        let line = String(decoding: body[start...], as: UTF8.self)
        guard let chain = AuditChain.after(record: line) else {
            throw OpenError(description: "--audit-log \(path): the last line is not an audit record; not an audit log")
        }
        return chain
    }
}

/// `close(2)`, named apart from ``AuditLog/close()``.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
