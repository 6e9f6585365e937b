import Foundation

/// The files of one audit log, oldest first: `FILE.<n>` … `FILE.1`, then `FILE` — and their check.
public enum AuditLogFiles {
    public struct Report: Sendable, Equatable {
        public var files: [String]
        public var records: Int
        public var firstSequence: Int
        public var lastSequence: Int
        /// The SHA-256 of the last record: note it elsewhere, and a later check proves nothing was
        /// cut from the end either.
        public var lastHash: String
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unreadable(String)
        case broken(AuditVerifier.Break)
        case empty(String)

        public var description: String {
            switch self {
            case .unreadable(let reason): reason
            case .broken(let broken): "broken chain at \(broken)"
            case .empty(let path): "\(path): no audit records"
            }
        }
    }

    /// A record is one event; a line longer than this is not one.
    static let longestLine = 4 << 20

    /// `path` and the rotated files next to it, oldest first. A gap in the numbers (a rotated file
    /// removed from the middle or the newest end) is a failure, never a shorter chain.
    public static func chain(of path: String) throws(Failure) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let numbers = names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix) else { return nil }
            let suffix = name.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.utf8.count <= 6, suffix.allSatisfy({ $0.isASCII && $0.isNumber }),
                !suffix.hasPrefix("0")
            else { return nil }
            return Int(suffix)
        }.sorted()
        if let missing = numbers.isEmpty ? nil : (1...numbers.last!).first(where: { !numbers.contains($0) }) {
            throw .unreadable(
                "\(path).\(missing) is missing but \(path).\(numbers.last!) exists: a rotated file was removed"
            )
        }
        let rotated = numbers.reversed().map { "\(path).\($0)" }
        return rotated + (FileManager.default.fileExists(atPath: path) ? [path] : [])
    }

    public static func verify(_ path: String) throws(Failure) -> Report {
        let files = try chain(of: path)
        guard !files.isEmpty else { throw .unreadable("\(path): no such file") }
        var verifier = AuditVerifier()
        for file in files { try check(file, with: &verifier) }
        guard let chain = verifier.chain, let first = verifier.firstSequence else { throw .empty(path) }
        return Report(
            files: files,
            records: verifier.records,
            firstSequence: first,
            lastSequence: chain.sequence,
            lastHash: chain.lastHash
        )
    }

    /// Reads `file` a MiB at a time, so a log of any size is checked in bounded memory.
    private static func check(_ file: String, with verifier: inout AuditVerifier) throws(Failure) {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw .unreadable("\(file): cannot read") }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var number = 0
        func feed(_ line: ArraySlice<UInt8>, terminated: Bool) throws(Failure) {
            number += 1
            do throws(AuditVerifier.Break) {
                try verifier.check(line, terminated: terminated, file: file, lineNumber: number)
            } catch {
                throw .broken(error)
            }
        }
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw .unreadable("\(file): cannot read")
            }
            if chunk.isEmpty { break }
            pending += chunk
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try feed(pending[start..<newline], terminated: true)
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            if pending.count > longestLine {
                throw .broken(.init(file: file, line: number + 1, reason: "a line longer than 4 MiB is not an audit record"))
            }
        }
        if !pending.isEmpty { try feed(pending[...], terminated: false) }
    }
}
