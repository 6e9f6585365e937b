import Detectors
import EgressRoutes
import Foundation
import Testing

@testable import Planner

/// Reading a bottle manifest's `egress:` section (README, "From a manifest to a running sidecar").
@Suite struct ManifestParsingTests {
    /// The example of the README's "From a manifest to a running sidecar", inside a manifest with other sections.
    static let example = """
        name: my-bottle
        image: {ref: "debian:stable", pull: true}
        egress:
          log: 1                       # 0/1/2 only, same validation as routes.yaml
          routes:
            - host: api.github.com
              auth_scheme: token
              token_ref: GITHUB_TOKEN  # host env var read at launch
              matches: [{paths: [{value: /repos/}], methods: [get]}]
              git: {fetch: true}
              dlp: {outbound_on_match: block, outbound_detectors: [github_token_classic]}
              role: []                 # reserved, carried but unused
            - host: "*.PyPI.org"
              role: [reader, "1"]
        mounts:
          - /work
        1: not a string key
        """

    @Test func readsTheEgressSection() throws {
        let manifest = try parseManifest(Self.example)
        #expect(manifest.log == .blocks)
        #expect(
            manifest.routes == [
                ManifestRoute(
                    host: host("api.github.com"),
                    auth: ManifestAuth(scheme: .token, tokenRef: "GITHUB_TOKEN"),
                    matches: [MatchEntry(paths: [PathMatch(value: "/repos/")], methods: ["GET"])],
                    gitFetch: true,
                    dlp: DLPPolicy(outboundDetectors: .only(["github_token_classic"]), outboundOnMatch: .block)
                ),
                ManifestRoute(host: host("*.pypi.org"), roles: ["reader", "1"]),
            ]
        )
    }

    @Test func otherTopLevelSectionsAreIgnoredWhateverTheyHold() throws {
        let yaml = "extra: {token_env: x, log: true, routes: 3}\negress:\n  routes: []\nlist: [1, 2]\nnull_key: ~\n"
        #expect(try parseManifest(yaml) == EgressManifest())
    }

    @Test func aManifestNeedsAnEgressSection() throws {
        let missing = try #require(manifestFailure("name: my-bottle\nimage: debian\n"))
        #expect(missing.description == "bottle.yaml: expected an egress: section, got none")
        let notMapping = try #require(manifestFailure("- egress\n"))
        #expect(notMapping.description == "bottle.yaml: expected a mapping with an egress: section, got a list")
        let empty = try #require(manifestFailure("# nothing\n"))
        #expect(empty.keyPath == "")
        let null = try #require(manifestFailure("egress:\n"))
        #expect(null.description == "bottle.yaml: egress: expected a mapping, got null")
        let noRoutes = try #require(manifestFailure("egress: {log: 1}\n"))
        #expect(noRoutes.description == "bottle.yaml: egress.routes: expected a list, got nothing")
        #expect(try parseManifest("egress: {routes: []}\n") == EgressManifest())
    }

    @Test func egressTwiceIsAnError() throws {
        let error = try #require(manifestFailure("egress: {routes: []}\negress: {routes: []}\n"))
        #expect(error.line != nil)
        #expect(error.description.contains("duplicate key \"egress\""))
    }

    @Test(
        "egress.log is the plain integer 0, 1 or 2",
        arguments: ["true", "\"1\"", "'2'", "3", "-1", "1.0", "01", "+1", "0x1", "null", "[1]", "one"]
    )
    func logIsValidated(value: String) throws {
        let error = try #require(manifestFailure("egress:\n  log: \(value)\n  routes: []\n"))
        #expect(error.keyPath == "egress.log")
        #expect(error.description.hasPrefix("bottle.yaml: egress.log: expected the integer 0, 1 or 2, got "))
    }

    @Test func logLevels() throws {
        #expect(try parseManifest("egress: {routes: []}").log == .off)
        for level in LogLevel.allCases {
            #expect(try parseManifest("egress: {log: \(level.rawValue), routes: []}").log == level)
        }
    }

    @Test func unknownKeysAreRejectedWithTheirPath() throws {
        let section = try #require(manifestFailure("egress:\n  routes: []\n  logs: 1\n"))
        #expect(
            section.description == "bottle.yaml: egress.logs: expected one of the keys log, routes, got an unknown key"
        )
        let route = try #require(
            manifestFailure(
                "egress:\n  routes:\n    - host: a.example\n      auth_scheme: bearer\n      token_env: T\n"
            )
        )
        #expect(route.keyPath == "egress.routes[0].token_env")
        #expect(route.description.contains("token_ref"))
        #expect(route.description.contains("role"))
        let nested = try #require(
            manifestFailure("egress:\n  routes:\n    - host: a.example\n      git: {push: true}\n")
        )
        #expect(nested.keyPath == "egress.routes[0].git.push")
    }

    @Test func routeFieldsAreCheckedLikeRoutesYAML() throws {
        func failure(_ route: String) -> RoutesConfigError? {
            manifestFailure("egress:\n  routes:\n    - host: a.example\n    - \(route)\n")
        }
        let halfAuth = try #require(failure("{host: b.example, auth_scheme: bearer}"))
        #expect(
            halfAuth.description
                == "bottle.yaml: egress.routes[1].token_ref: expected an environment variable name (auth_scheme is set), got nothing"
        )
        #expect(try #require(failure("{host: b.example, token_ref: X}")).keyPath == "egress.routes[1].auth_scheme")
        #expect(
            try #require(failure("{host: b.example, auth_scheme: bearer, token_ref: 'A-B'}")).keyPath
                == "egress.routes[1].token_ref"
        )
        #expect(try #require(failure("{host: 'https://b.example'}")).keyPath == "egress.routes[1].host")
        #expect(try #require(failure("{host: A.example}")).keyPath == "egress.routes[1].host")
        #expect(
            try #require(failure("{host: b.example, matches: [{paths: [{type: regex, value: '('}]}]}")).keyPath
                == "egress.routes[1].matches[0].paths[0].value"
        )
        #expect(
            try #require(failure("{host: b.example, dlp: {outbound_on_match: allow}}")).keyPath
                == "egress.routes[1].dlp.outbound_on_match"
        )
    }

    @Test func detectorNamesMustBeInTheCatalog() throws {
        let known = try #require(DetectorCatalog.knownIDs.sorted().first)
        let yaml =
            "egress:\n  routes:\n    - host: a.example\n      dlp: {inbound_detectors: [\(known), no_such_detector]}\n"
        let error = try #require(manifestFailure(yaml))
        #expect(error.keyPath == "egress.routes[0].dlp.inbound_detectors[1]")
        #expect(error.description.contains("no_such_detector"))
        // Without a catalog only the shape is checked.
        #expect(try EgressManifest.parse(yaml: yaml, file: "bottle.yaml", knownDetectors: nil).routes.count == 1)
    }

    @Test func rolesAreAListOfNames() throws {
        for bad in ["reader", "[1]", "[\"\"]", "{a: b}", "~"] {
            let error = try #require(
                manifestFailure("egress:\n  routes:\n    - host: a.example\n      role: \(bad)\n"),
                "\(bad)"
            )
            #expect(error.keyPath?.hasPrefix("egress.routes[0].role") == true, "\(bad)")
        }
        #expect(try parseManifest("egress:\n  routes:\n    - {host: a.example, role: []}\n").routes[0].roles == [])
    }

    @Test func twoRoutesForOneHostAreAnError() throws {
        let error = try #require(manifestFailure("egress:\n  routes:\n    - host: a.example\n    - host: A.EXAMPLE\n"))
        #expect(error.keyPath == "egress.routes[1].host")
        #expect(error.description.contains("egress.routes[0]"))
    }

    @Test func loadNamesTheFile() throws {
        let missing = "/nonexistent/bottle.yaml"
        do {
            _ = try EgressManifest.load(path: missing)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description == "\(missing): cannot read the file: No such file or directory")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString).yaml")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0x65, 0x3A, 0xFF]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try EgressManifest.load(path: path)
            Issue.record("loaded invalid UTF-8")
        } catch {
            #expect(error.description == "\(path): expected UTF-8 text, got invalid bytes")
        }
        try Self.example.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try EgressManifest.load(path: path).routes.count == 2)
    }
}
