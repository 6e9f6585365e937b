import Crypto
import Foundation

/// The hash chain of the audit log (README, "Audit log"): each record is an event's JSON object
/// with `seq`, `ts` and `prev` put first, where `prev` is the SHA-256 (hex) of the previous
/// record's line as written, without its newline. Editing, inserting or removing a line breaks
/// the chain at the next line. Pure: the writer and `egress audit verify` share it.
public struct AuditChain: Sendable, Equatable {
    /// `prev` of the very first record.
    public static let origin = String(repeating: "0", count: 64)

    /// The last record's sequence number (0 before the first).
    public private(set) var sequence: Int
    /// The SHA-256 of the last record's line.
    public private(set) var lastHash: String

    public init(sequence: Int = 0, lastHash: String = AuditChain.origin) {
        self.sequence = sequence
        self.lastHash = lastHash
    }

    /// The record for `event` (a serialized JSON object), which becomes the chain's last.
    public mutating func seal(_ event: String, at date: Date) -> String {
        sequence += 1
        var line = "{\"seq\":\(sequence),\"ts\":\"\(Timestamp.iso8601(date))\",\"prev\":\"\(lastHash)\""
        let members = event.dropFirst()
        if members.first != "}" { line += "," }
        line += members
        lastHash = Self.hash(line)
        return line
    }

    /// Sequence numbers stay far below `Int.max`, so `+ 1` never traps on a hostile file.
    public static let sequenceLimit = 1 << 53

    public static func hash(_ line: some StringProtocol) -> String {
        hash(bytes: Array(line.utf8))
    }

    /// Over the bytes as they are in the file: two lines that decode to the same text but differ
    /// in their bytes hash differently.
    public static func hash(bytes: some Collection<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// The chain as it stands after `line`, a record read back from a file; `nil` when the line is
    /// not a record (no whole-number `seq` from 1 to ``sequenceLimit``).
    public static func after(record line: some Collection<UInt8>) -> AuditChain? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
            let sequence = object["seq"] as? Int, (1..<sequenceLimit).contains(sequence)
        else { return nil }
        return AuditChain(sequence: sequence, lastHash: hash(bytes: line))
    }
}
