import Crypto
import Foundation

/// The secret that authenticates the operator on the control listener (`--control-token-file`).
///
/// Accepted as `Authorization: Bearer <token>`, or as the password of HTTP Basic (any user name) so
/// that a browser can prompt for it. Comparison is constant-time: both sides are hashed first, so
/// neither content nor length leaks through timing.
public struct ControlToken: Sendable {
    private let digest: [UInt8]
    /// The token itself, for clients that send it (`egress supervise`).
    public let value: String

    public init?(_ value: String) {
        guard !value.isEmpty else { return nil }
        self.value = value
        self.digest = Array(SHA256.hash(data: Data(value.utf8)))
    }

    /// Reads a token file; surrounding whitespace and the trailing newline are trimmed.
    public static func load(path: String) throws(ControlTokenError) -> ControlToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ControlTokenError("--control-token-file \(path): cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token = ControlToken(text) else {
            throw ControlTokenError("--control-token-file \(path): the file is empty (expected a token)")
        }
        guard !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ControlTokenError("--control-token-file \(path): expected one line (the token)")
        }
        return token
    }

    /// True when `candidate` is the token, compared in constant time.
    public func matches(_ candidate: String) -> Bool {
        let other = SHA256.hash(data: Data(candidate.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, other) { difference |= a ^ b }
        return difference == 0
    }

    /// True when an `Authorization` header value carries the token (Bearer, or Basic with the token
    /// as the password).
    public func authorizes(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let trimmed = authorization.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return false }
        let scheme = trimmed[..<space].lowercased()
        let credentials = trimmed[trimmed.index(after: space)...].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "bearer":
            return matches(credentials)
        case "basic":
            guard let decoded = Data(base64Encoded: credentials),
                let pair = String(data: decoded, encoding: .utf8),
                let colon = pair.firstIndex(of: ":")
            else { return false }
            return matches(String(pair[pair.index(after: colon)...]))
        default:
            return false
        }
    }
}

public struct ControlTokenError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
