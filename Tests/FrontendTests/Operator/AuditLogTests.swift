import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Frontend

/// The hash-chained audit log: records chain, any edit, insertion, removal or reordering is found
/// at the first line it breaks, rotation and restarts keep one chain, and level-2 events never
/// reach it.
@Suite("Audit log")
struct AuditLogTests {
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func write(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A log at `path` with `count` block events (plus the `started` record), closed.
    static func makeLog(_ path: String, count: Int, rotation: AuditLog.Rotation = .init()) throws {
        let log = try AuditLog(path: path, rotation: rotation) { _ in }
        for index in 0..<count {
            log.append(EgressEvent.block(reason: "egress: host not allowed: h\(index).test", context: .init(host: "h\(index).test", method: "GET", path: "/")).json.serialized())
        }
        log.close()
    }

    @Test("records carry seq, ts and prev first, and the chain verifies")
    func chainVerifies() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        try Self.makeLog(path, count: 3)
        let lines = Self.lines(path)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix(#"{"seq":1,"ts":""#))
        #expect(lines[0].contains(#""prev":"\#(AuditChain.origin)","event":"egress_audit","status":"started"}"#))
        #expect(lines[1].contains(#""prev":"\#(AuditChain.hash(lines[0]))","event":"egress_block""#))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let report = try AuditLogFiles.verify(path)
        #expect(report.records == 4)
        #expect(report.firstSequence == 1 && report.lastSequence == 4)
        #expect(report.lastHash == AuditChain.hash(lines[3]))
    }

    @Test(
        "an edited, inserted, removed, reordered or cut line is reported at the first line it breaks",
        arguments: [
            ("edit", 3, "prev is not the SHA-256"),
            ("insert", 3, "seq 2 follows 2"),
            ("remove", 3, "seq 4 follows 2"),
            ("swap", 2, "seq 3 follows 1"),
            ("cut", 5, "incomplete"),
            ("garbage", 2, "not a JSON object"),
        ]
    )
    func tampering(kind: String, line: Int, reason: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        try Self.makeLog(path, count: 4)
        var lines = Self.lines(path)
        switch kind {
        case "edit": lines[1] = lines[1].replacingOccurrences(of: "h0.test", with: "h9.test")
        case "insert": lines.insert(lines[1], at: 2)
        case "remove": lines.remove(at: 2)
        case "swap": lines.swapAt(1, 2)
        case "garbage": lines[1] = "hello"
        default: break
        }
        if kind == "cut" {
            let text = lines.joined(separator: "\n") + "\n"
            try String(text.dropLast(10)).write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            try Self.write(lines, to: path)
        }
        #expect {
            try AuditLogFiles.verify(path)
        } throws: { error in
            guard case .broken(let broken) = error as? AuditLogFiles.Failure else { return false }
            return broken.file == path && broken.line == line && broken.reason.contains(reason)
        }
    }

    @Test("a restart continues the chain; rotation moves full files to FILE.1… and the chain runs across them")
    func restartsAndRotation() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        // Each run writes more than maxBytes, so every later run starts by rotating.
        let rotation = AuditLog.Rotation(maxBytes: 1000, keep: 3)
        for _ in 0..<6 { try Self.makeLog(path, count: 6, rotation: rotation) }
        let files = try AuditLogFiles.chain(of: path)
        #expect(files.count == 4, "\(files)")
        #expect(files.last == path)
        #expect(!FileManager.default.fileExists(atPath: path + ".4"))
        let report = try AuditLogFiles.verify(path)
        #expect(report.lastSequence == 42)
        #expect(report.firstSequence > 1, "the oldest rotated file was removed")
        #expect(report.records == 42 - report.firstSequence + 1)
        // Editing a rotated file is found there.
        var old = Self.lines(path + ".2")
        old[0] = old[0].replacingOccurrences(of: "\"seq\":", with: "\"seq\": ")
        try Self.write(old, to: path + ".2")
        #expect(throws: AuditLogFiles.Failure.self) { try AuditLogFiles.verify(path) }
    }

    @Test("a rotated file removed from the chain is reported, not skipped")
    func gaps() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        for _ in 0..<4 { try Self.makeLog(path, count: 6, rotation: .init(maxBytes: 1000, keep: 5)) }
        try FileManager.default.removeItem(atPath: path + ".1")
        #expect {
            try AuditLogFiles.verify(path)
        } throws: { error in
            "\(error)".contains("\(path).1 is missing but \(path).3 exists")
        }
    }

    @Test("a second writer is refused: two would fork the chain")
    func locked() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        let first = try AuditLog(path: path) { _ in }
        #expect { try AuditLog(path: path) { _ in } } throws: { "\($0)".contains("another process is writing it") }
        first.close()
        let second = try AuditLog(path: path) { _ in }
        second.close()
        #expect(try AuditLogFiles.verify(path).records == 2)
    }

    @Test("writes that fail are reported at most once per 10 s, never loop, and are counted once writing works")
    func failingWrites() throws {
        let failures = NIOLockedValueBox<[String]>([])
        // /dev/full fails every write with ENOSPC.
        let log = try AuditLog(path: "/dev/full") { reason in failures.withLockedValue { $0.append(reason) } }
        for index in 0..<20 {
            log.append(#"{"event":"egress_block","n":\#(index)}"#)
            log.flush()
        }
        log.close()
        let reported = failures.withLockedValue { $0 }
        #expect(reported.count == 1, "\(reported)")
        #expect(reported.first?.contains("No space left on device") == true)
    }

    @Test("a rotation that cannot happen leaves the file growing, reports once, and keeps the chain")
    func rotationFailure() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        // A directory where the fresh file would be created: the rotation fails before anything moves.
        try FileManager.default.createDirectory(atPath: path + ".next", withIntermediateDirectories: false)
        let failures = NIOLockedValueBox<[String]>([])
        let log = try AuditLog(path: path, rotation: .init(maxBytes: 200, keep: 3)) { reason in
            failures.withLockedValue { $0.append(reason) }
        }
        for index in 0..<10 {
            log.append(#"{"event":"egress_block","n":\#(index)}"#)
            log.flush()
        }
        log.close()
        #expect(failures.withLockedValue { $0 }.count == 1)
        #expect(failures.withLockedValue { $0 }.first?.contains("cannot rotate") == true)
        #expect(!FileManager.default.fileExists(atPath: path + ".1"))
        #expect(try AuditLogFiles.verify(path).records == 11)
    }

    @Test("a file that does not end in a whole record is refused at open, naming why")
    func refusesBrokenTail() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        try "{\"seq\":1,\"ts\":\"x\"".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try AuditLog(path: path) { _ in } } throws: { "\($0)".contains("incomplete") }
        try "hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try AuditLog(path: path) { _ in } } throws: { "\($0)".contains("not an audit record") }
    }

    @Test("what does not fit in the queue is counted, and the count is a record of the chain")
    func drops() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        let log = try AuditLog(path: path, maxPending: 2) { _ in }
        // The writer may be busy with the started record: hand over more than fits either way.
        for index in 0..<50 { log.append(#"{"event":"egress_block","n":\#(index)}"#) }
        log.close()
        let lines = Self.lines(path)
        #expect(lines.contains { $0.contains(#""event":"egress_audit","status":"dropped""#) })
        let dropped = lines.compactMap { line -> Int? in
            guard line.contains("\"dropped\"") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["count"] as? Int
        }.reduce(0, +)
        #expect(dropped + lines.filter { $0.contains("egress_block") }.count == 50)
        #expect(throws: Never.self) { try AuditLogFiles.verify(path) }
    }

    @Test("the event log hands level-1 events and the boot line to the audit log at any level, and never level-2 ones")
    func eventLogFeedsAudit() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("audit.log")
        let audit = try AuditLog(path: path) { _ in }
        let stderr = NIOLockedValueBox<[String]>([])
        let events = EventLog(level: .off, sink: { line in stderr.withLockedValue { $0.append(line) } }, audit: audit)
        events.emitBoot(.boot(level: "off", listen: "127.0.0.1:1", routes: 1, scanners: 1))
        events.emit(.block(reason: "egress: host not allowed: a.test", context: .init(host: "a.test", method: "GET", path: "/")), minimum: .blocks)
        events.emit(.request(context: .init(host: "a.test", method: "POST", path: "/"), headers: ["authorization": "Bearer sekrit"], body: LoggedBody()), minimum: .full)
        audit.close()
        let lines = Self.lines(path)
        #expect(lines.map { ($0.components(separatedBy: #""event":""#).last ?? "").prefix(14) } == ["egress_audit\",", "egress_boot\",\"", "egress_block\",", ])
        #expect(!lines.joined().contains("sekrit"))
        #expect(stderr.withLockedValue { $0 }.count == 1, "level 0 still writes only the boot line to stderr")
    }
}
