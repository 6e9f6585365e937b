import Foundation

/// `egress audit verify`: checks records in order, across rotated files, and stops at the first
/// broken one. Pure: fed lines, it says where the chain breaks.
public struct AuditVerifier: Sendable {
    public struct Break: Error, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String

        public var description: String { "\(file):\(line): \(reason)" }
    }

    public private(set) var records = 0
    /// The first record's `seq`: above 1 when older files were rotated away.
    public private(set) var firstSequence: Int?
    /// The chain after the last record checked.
    public private(set) var chain: AuditChain?

    public init() {}

    /// Checks one line (its bytes, without the newline); `terminated` is false for a last line
    /// with no newline.
    public mutating func check(
        _ line: some Collection<UInt8>,
        terminated: Bool,
        file: String,
        lineNumber: Int
    ) throws(Break) {
        func broken(_ reason: String) -> Break { Break(file: file, line: lineNumber, reason: reason) }
        guard terminated else { throw broken("the line is incomplete (a write was cut short, or the file was cut)") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            throw broken("not a JSON object")
        }
        guard let sequence = object["seq"] as? Int, (1..<AuditChain.sequenceLimit).contains(sequence),
            let previous = object["prev"] as? String
        else {
            throw broken("not an audit record (no seq from 1 to 2^53, or no prev)")
        }
        if let chain {
            guard sequence == chain.sequence + 1 else {
                throw broken("seq \(sequence) follows \(chain.sequence): records were removed, inserted or reordered")
            }
            guard previous == chain.lastHash else {
                throw broken("prev is not the SHA-256 of the line before: that line was changed, or this one was inserted")
            }
        } else {
            if sequence == 1, previous != AuditChain.origin {
                throw broken("the first record's prev is not the chain's origin (64 zeros)")
            }
            firstSequence = sequence
        }
        records += 1
        chain = AuditChain(sequence: sequence, lastHash: AuditChain.hash(bytes: line))
    }
}
