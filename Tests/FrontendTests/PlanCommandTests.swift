import Foundation
import Testing

/// `egress plan`, the real binary, as an operator runs it on the host.
@Suite("egress plan", .timeLimit(.minutes(2)))
struct PlanCommandTests {
    static let manifest = """
        name: my-bottle
        image: debian:stable
        egress:
          log: 1
          routes:
            - host: api.github.com
              auth_scheme: token
              token_ref: GITHUB_TOKEN
              matches: [{paths: [{value: /repos/}]}]
              git: {fetch: true}
              dlp: {outbound_on_match: block}
              role: []
            - host: api.anthropic.com
            - host: uploads.github.com
              auth_scheme: bearer
              token_ref: GITHUB_TOKEN
        """

    static let environment = [
        "PATH": "/usr/bin:/bin", "GITHUB_TOKEN": "ghp_host-value-1", "ANTHROPIC_API_KEY": "sk-ant-host-value-2",
    ]

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("writes routes.yaml and egress.env (0600) and prints the token map without values")
    func plan() async throws {
        let directory = try TemporaryDirectory()
        try Self.manifest.write(toFile: directory.file("bottle.yaml"), atomically: true, encoding: .utf8)
        let out = directory.file("out")
        let result = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("bottle.yaml"), "--out", out, "--provider", "anthropic"],
            environment: Self.environment
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("EGRESS_TOKEN_0 <- ANTHROPIC_API_KEY"))
        #expect(result.stdout.contains("EGRESS_TOKEN_1 <- GITHUB_TOKEN"))
        #expect(
            result.stdout.contains(
                "dropped egress.routes[1] (api.anthropic.com): --provider anthropic covers that host"
            )
        )
        #expect(!result.stdout.contains("host-value"))

        let routesPath = (out as NSString).appendingPathComponent("routes.yaml")
        let envPath = (out as NSString).appendingPathComponent("egress.env")
        #expect(try Self.mode(routesPath) == 0o600)
        #expect(try Self.mode(envPath) == 0o600)
        #expect(
            try String(contentsOfFile: envPath, encoding: .utf8)
                == "EGRESS_TOKEN_0=sk-ant-host-value-2\nEGRESS_TOKEN_1=ghp_host-value-1\n"
        )
        let routes = try String(contentsOfFile: routesPath, encoding: .utf8)
        #expect(!routes.contains("host-value"))
        #expect(!routes.contains("GITHUB_TOKEN"))

        let check = try await runProcess(egressExecutable, ["check", "--routes", routesPath])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("\(routesPath): OK, 3 routes, log: blocks"))
        #expect(check.stdout.contains("api.anthropic.com  auth=x-api-key(EGRESS_TOKEN_0)"))
        #expect(check.stdout.contains("dlp.out=default/redact"))
        #expect(check.stdout.contains("uploads.github.com  auth=bearer(EGRESS_TOKEN_1)"))
    }

    @Test("a missing token variable is one error line naming it and the host, and nothing is written")
    func missingVariable() async throws {
        let directory = try TemporaryDirectory()
        try Self.manifest.write(toFile: directory.file("bottle.yaml"), atomically: true, encoding: .utf8)
        let out = directory.file("out")
        var environment = Self.environment
        environment["GITHUB_TOKEN"] = nil
        let result = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("bottle.yaml"), "--out", out, "--provider", "anthropic"],
            environment: environment
        )
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("egress: "))
        #expect(line.contains("GITHUB_TOKEN"))
        #expect(line.contains("api.github.com"))
        #expect(!line.contains("host-value"))
        #expect(!FileManager.default.fileExists(atPath: out))

        // Into an existing directory: the files already there stay as they were.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "old\n".write(
            toFile: (out as NSString).appendingPathComponent("routes.yaml"),
            atomically: true,
            encoding: .utf8
        )
        environment["GITHUB_TOKEN"] = ""
        let empty = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("bottle.yaml"), "--out", out],
            environment: environment
        )
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("GITHUB_TOKEN is empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["routes.yaml"])
        #expect(
            try String(contentsOfFile: (out as NSString).appendingPathComponent("routes.yaml"), encoding: .utf8)
                == "old\n"
        )
    }

    @Test(
        "bad input is one clear error line and exit status 1",
        arguments: [
            (["--provider", "claude"], "unknown provider \"claude\"; known providers: anthropic, codex, openai"),
            (["--manifest-file", "x"], "--manifest-file"),
            ([], "egress.log"),
        ]
    )
    func badInput(flags: [String], expected: String) async throws {
        let directory = try TemporaryDirectory()
        let manifest = flags.isEmpty ? Self.manifest.replacing("log: 1", with: "log: true") : Self.manifest
        try manifest.write(toFile: directory.file("bottle.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("bottle.yaml"), "--out", directory.file("out")] + flags,
            environment: Self.environment
        )
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("egress: "))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("out")))
    }

    @Test("a manifest without an egress: section, or missing, is an error naming the file")
    func badManifest() async throws {
        let directory = try TemporaryDirectory()
        try "name: my-bottle\n".write(toFile: directory.file("bottle.yaml"), atomically: true, encoding: .utf8)
        let noSection = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("bottle.yaml"), "--out", directory.file("out")]
        )
        #expect(noSection.status == 1)
        #expect(noSection.stderr == "egress: \(directory.file("bottle.yaml")): expected an egress: section, got none\n")
        let missing = try await runProcess(
            egressExecutable,
            ["plan", "--manifest", directory.file("nope.yaml"), "--out", directory.file("out")]
        )
        #expect(missing.status == 1)
        #expect(
            missing.stderr
                == "egress: \(directory.file("nope.yaml")): cannot read the file: No such file or directory\n"
        )
    }
}
