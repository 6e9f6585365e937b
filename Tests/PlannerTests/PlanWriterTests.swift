import Foundation
import Testing

@testable import Planner

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PlanWriterTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    static func tokens(_ value: String) throws -> ResolvedTokens {
        let plan = try EgressPlan(manifest: makeManifest([("a.example", "T")]), providers: [])
        return try plan.resolveTokens(environment: ["T": value])
    }

    @Test func writesBothFilesWithMode0600AndNoLeftovers() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = PlanWriter(directory: directory)
        try writer.write(routesYAML: "routes: []\n", tokens: try Self.tokens("v1"))
        #expect(try String(contentsOfFile: writer.routesPath, encoding: .utf8) == "routes: []\n")
        #expect(try String(contentsOfFile: writer.envPath, encoding: .utf8) == "EGRESS_TOKEN_0=v1\n")
        #expect(try Self.mode(writer.routesPath) == 0o600)
        #expect(try Self.mode(writer.envPath) == 0o600)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["egress.env", "routes.yaml"]
        )
    }

    @Test func replacesExistingFilesAndTightensTheirMode() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = PlanWriter(directory: directory)
        try "old".write(toFile: writer.envPath, atomically: false, encoding: .utf8)
        chmod(writer.envPath, 0o644)
        try writer.write(routesYAML: "routes: []\n", tokens: try Self.tokens("v2"))
        #expect(try String(contentsOfFile: writer.envPath, encoding: .utf8) == "EGRESS_TOKEN_0=v2\n")
        #expect(try Self.mode(writer.envPath) == 0o600)
    }

    @Test func createsTheDirectory() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let writer = PlanWriter(directory: (base as NSString).appendingPathComponent("a/b"))
        try writer.write(routesYAML: "routes: []\n", tokens: try Self.tokens("v"))
        #expect(FileManager.default.fileExists(atPath: writer.routesPath))
        #expect(try Self.mode(writer.directory) & 0o077 == 0)
    }

    @Test func failuresNameThePathAndLeaveNothing() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let file = (base as NSString).appendingPathComponent("file")
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        let tokens = try Self.tokens("v")
        let notDirectory = try #require(
            planFailure { () throws(PlanError) in
                try PlanWriter(directory: file).write(routesYAML: "routes: []\n", tokens: tokens)
            }
        )
        #expect(notDirectory.description == "\(file): not a directory")

        // routes.yaml cannot be replaced (a directory is in the way): no env file, no temporaries.
        let blocked = (base as NSString).appendingPathComponent("blocked")
        let writer = PlanWriter(directory: blocked)
        try FileManager.default.createDirectory(atPath: writer.routesPath, withIntermediateDirectories: true)
        try "keep".write(
            toFile: (writer.routesPath as NSString).appendingPathComponent("x"),
            atomically: false,
            encoding: .utf8
        )
        let error = try #require(
            planFailure { () throws(PlanError) in try writer.write(routesYAML: "routes: []\n", tokens: tokens) }
        )
        #expect(error.description.hasPrefix("\(writer.routesPath): cannot replace the file: "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: blocked) == ["routes.yaml"])
    }
}
