import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Frontend

/// `--decisions-file`: written whole and private after each change, read back at start, and
/// refused with one clear error when it is not ours or others may write it.
@Suite("Decisions file")
struct DecisionsFileTests {
    static func decision(_ id: String, expiresIn seconds: TimeInterval) -> StandingDecision {
        let now = Date()
        return StandingDecision(
            id: id, verdict: .approve, route: "api.test", host: "api.test", origin: "https://api.test:443",
            detectors: ["github_token_classic"],
            createdAt: now, expiresAt: now.addingTimeInterval(seconds), createdBy: .cli, fromRequest: "held1"
        )
    }

    @Test("changes are written atomically with mode 0600 and read back without expired decisions")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("decisions.json")
        let failures = NIOLockedValueBox<[String]>([])
        let file = DecisionsFile(path: path) { reason in failures.withLockedValue { $0.append(reason) } }
        #expect(try file.load().isEmpty, "a missing file is an empty set")
        let kept = Self.decision("keep1", expiresIn: 600)
        file.supervisionChanged(.standingDecisions([kept, Self.decision("gone1", expiresIn: 0.5)]))
        file.flush()
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["decisions.json"])
        Thread.sleep(forTimeInterval: 0.6)
        let loaded = try file.load()
        #expect(loaded.map(\.id) == ["keep1"])
        #expect(loaded.first?.host == kept.host && loaded.first?.detectors == kept.detectors)
        #expect(abs((loaded.first?.expiresAt.timeIntervalSince(kept.expiresAt)) ?? 99) < 1)
        #expect(failures.withLockedValue { $0 }.isEmpty)
    }

    @Test(
        "a file that is not a decisions file, or that others may write, stops start-up with one clear error",
        arguments: [
            ("not json", 0o600, "not a decisions file"),
            (#"{"version":2,"decisions":[]}"#, 0o600, "version 2"),
            (#"{"version":1,"decisions":[]}"#, 0o620, "writable by group or others"),
            (#"{"version":1,"decisions":[{"id":"a b","verdict":"approve","route":"r","host":"h","origin":"https://h:443","detectors":["d"],"created_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-01T00:10:00Z","created_by":"cli","from_request":"x","hits":0}]}"#, 0o600, "malformed"),
            (#"{"version":1,"decisions":[{"id":"a","verdict":"approve","route":"r","host":"h","origin":"https://h:443","detectors":["d"],"created_at":"2099-01-01T00:00:00Z","expires_at":"2099-01-01T00:10:00Z","created_by":"cli","from_request":"x","hits":0}]}"#, 0o600, "malformed"),
            (#"{"version":1,"decisions":[{"id":"a","verdict":"forever","route":"r","host":"h","origin":"https://h:443","detectors":["d"],"created_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-01T00:10:00Z","created_by":"cli","from_request":"x","hits":0}]}"#, 0o600, "not a decisions file"),
        ]
    )
    func refused(contents: String, mode: Int, message: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("decisions.json")
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode_t(mode))
        let file = DecisionsFile(path: path) { _ in }
        #expect {
            try file.load()
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(path)
        }
    }

    @Test("a symlink, a file of another user, or a directory others may write is refused")
    func placement() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("decisions.json")
        try #"{"version":1,"decisions":[]}"#.write(toFile: directory.file("real.json"), atomically: true, encoding: .utf8)
        chmod(directory.file("real.json"), 0o600)
        symlink(directory.file("real.json"), path)
        #expect { try DecisionsFile(path: path) { _ in }.load() } throws: { "\($0)".contains("symbolic link") }
        unlink(path)
        try #"{"version":1,"decisions":[]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        chown(path, 65534, 65534)
        #expect { try DecisionsFile(path: path) { _ in }.load() } throws: { "\($0)".contains("belongs to uid 65534") }
        chown(path, geteuid(), getegid())
        chmod(directory.path, 0o777)
        #expect { try DecisionsFile(path: path) { _ in }.load() } throws: { "\($0)".contains("writable by group or others") }
        chmod(directory.path, 0o1777)
        #expect(try DecisionsFile(path: path) { _ in }.load().isEmpty, "a sticky directory is fine")
        chmod(directory.path, 0o700)
    }

    @Test("a write that fails is reported, never thrown at the request path")
    func writeFailure() throws {
        let failures = NIOLockedValueBox<[String]>([])
        let file = DecisionsFile(path: "/proc/egress-no-such-dir/decisions.json") { reason in
            failures.withLockedValue { $0.append(reason) }
        }
        file.supervisionChanged(.standingDecisions([Self.decision("a", expiresIn: 60)]))
        file.flush()
        #expect(failures.withLockedValue { $0 }.first?.contains("cannot create") == true)
    }
}
