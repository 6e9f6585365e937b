import Foundation
import Testing

@testable import Frontend

@Suite("git through the proxy", .timeLimit(.minutes(2)))
struct GitThroughProxyTests {
    /// A bare repository with one commit, served by `git http-backend`.
    static func makeRepository(in directory: TemporaryDirectory) async throws -> String {
        let work = directory.file("work")
        let root = directory.file("srv")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let git = { (args: [String], cwd: String) in
            try await runProcess("/usr/bin/git", args, environment: gitEnvironment, currentDirectory: cwd)
        }
        _ = try await git(["init", "-q", "-b", "main"], work)
        try "hello through the proxy\n".write(toFile: work + "/README", atomically: true, encoding: .utf8)
        _ = try await git(["add", "README"], work)
        let commit = try await git(["commit", "-q", "-m", "first"], work)
        #expect(commit.status == 0, "\(commit.stderr)")
        let clone = try await git(["clone", "-q", "--bare", work, root + "/repo.git"], directory.path)
        #expect(clone.status == 0, "\(clone.stderr)")
        return root
    }

    static let gitEnvironment = [
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    ]

    @Test("clone works with git.fetch and basic credentials; push is refused with the reason")
    func cloneAndPush() async throws {
        let directory = try TemporaryDirectory()
        let root = try await Self.makeRepository(in: directory)
        let routes = """
            log: 1
            routes:
              - host: "git.test"
                auth_scheme: basic
                token_env: GIT_TOKEN
                matches:
                  - paths: [{value: "/api/"}]
                git:
                  fetch: true
            \(dlpOff)
            """
        try await Scenario.run(
            host: "git.test",
            routes: routes,
            environment: ["GIT_TOKEN": "ghs_operator"],
            responder: { _ in .git(root: root) }
        ) { s in
            let proxyConfig = [
                "-c", "http.proxy=\(s.proxy.proxyURL)", "-c", "http.sslCAInfo=\(s.proxy.caPath)",
            ]
            let clone = try await runProcess(
                "/usr/bin/git",
                proxyConfig + ["clone", "-q", "https://git.test/repo.git", directory.file("clone")],
                environment: Self.gitEnvironment,
                currentDirectory: directory.path
            )
            #expect(clone.status == 0, "\(clone.stderr)")
            let readme = try String(contentsOfFile: directory.file("clone") + "/README", encoding: .utf8)
            #expect(readme == "hello through the proxy\n")
            let authorizations = Set(s.upstream.requests.compactMap { $0.header("authorization") })
            #expect(authorizations == ["Basic eC1hY2Nlc3MtdG9rZW46Z2hzX29wZXJhdG9y"])

            try "change\n".write(toFile: directory.file("clone") + "/README", atomically: true, encoding: .utf8)
            _ = try await runProcess(
                "/usr/bin/git",
                ["commit", "-qam", "second"],
                environment: Self.gitEnvironment,
                currentDirectory: directory.file("clone")
            )
            let push = try await runProcess(
                "/usr/bin/git",
                proxyConfig + ["push", "-q", "origin", "main"],
                environment: Self.gitEnvironment,
                currentDirectory: directory.file("clone")
            )
            #expect(push.status != 0)
            #expect(push.stderr.contains("403"))
            let block = try #require(s.proxy.events.events("egress_block").first)
            #expect(block["reason"] as? String == "egress: git push is not allowed")
            #expect(!s.upstream.requests.contains { $0.head.uri.contains("receive-pack") })
        }
    }
}
