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

    /// `path` and the rotated files next to it, oldest first.
    public static func chain(of path: String) -> [String] {
        var rotated: [String] = []
        var index = 1
        while FileManager.default.fileExists(atPath: "\(path).\(index)") {
            rotated.append("\(path).\(index)")
            index += 1
        }
        return rotated.reversed() + (FileManager.default.fileExists(atPath: path) ? [path] : [])
    }

    public static func verify(_ path: String) throws(Failure) -> Report {
        let files = chain(of: path)
        guard !files.isEmpty else { throw .unreadable("\(path): no such file") }
        var verifier = AuditVerifier()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .unreadable("\(file): cannot read")
            }
            var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            // The text after the last newline: empty for a file that ends as it should.
            let rest = lines.removeLast()
            var number = 0
            for line in lines {
                number += 1
                do throws(AuditVerifier.Break) {
                    try verifier.check(String(decoding: line, as: UTF8.self), terminated: true, file: file, lineNumber: number)
                } catch {
                    throw .broken(error)
                }
            }
            if !rest.isEmpty {
                do throws(AuditVerifier.Break) {
                    try verifier.check(String(decoding: rest, as: UTF8.self), terminated: false, file: file, lineNumber: number + 1)
                } catch {
                    throw .broken(error)
                }
            }
        }
        guard let chain = verifier.chain, let first = verifier.firstSequence else { throw .empty(path) }
        return Report(
            files: files,
            records: verifier.records,
            firstSequence: first,
            lastSequence: chain.sequence,
            lastHash: chain.lastHash
        )
    }
}
