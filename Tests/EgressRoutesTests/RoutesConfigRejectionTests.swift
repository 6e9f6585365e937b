import Testing

@testable import EgressRoutes

/// One document that must be rejected, the key path the error must name and the message it must carry.
struct Rejection: Sendable, CustomTestStringConvertible {
    let label: String
    let yaml: String
    let keyPath: String
    /// The whole message (`expected …, got …`) when it starts with "expected", else a fragment it contains.
    let message: String
    var knownDetectors: Set<String>? = nil

    var testDescription: String { label }
}

@Suite struct RoutesConfigRejectionTests {
    static let logCases: [Rejection] = [
        Rejection(
            label: "log true",
            yaml: "log: true\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got true"
        ),
        Rejection(
            label: "log \"1\"",
            yaml: "log: \"1\"\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got \"1\""
        ),
        Rejection(
            label: "log '1'",
            yaml: "log: '1'\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got \"1\""
        ),
        Rejection(
            label: "log 3",
            yaml: "log: 3\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got 3"
        ),
        Rejection(
            label: "log -1",
            yaml: "log: -1\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got -1"
        ),
        Rejection(
            label: "log 1.0",
            yaml: "log: 1.0\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got 1.0"
        ),
        Rejection(
            label: "log 0x1",
            yaml: "log: 0x1\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got 0x1"
        ),
        Rejection(
            label: "log +1",
            yaml: "log: +1\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got +1"
        ),
        Rejection(
            label: "log 01",
            yaml: "log: 01\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got 01"
        ),
        Rejection(
            label: "log null",
            yaml: "log:\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got null"
        ),
        Rejection(
            label: "log list",
            yaml: "log: [1]\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got a list"
        ),
        Rejection(
            label: "log !!str 1",
            yaml: "log: !!str 1\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got \"1\""
        ),
        Rejection(
            label: "log blocks",
            yaml: "log: blocks\nroutes: []",
            keyPath: "log",
            message: "expected the integer 0, 1 or 2, got \"blocks\""
        ),
    ]

    static let documentCases: [Rejection] = [
        Rejection(
            label: "unknown top-level key",
            yaml: "routes: []\nrutes: []",
            keyPath: "rutes",
            message: "expected one of the keys log, routes, got an unknown key"
        ),
        Rejection(
            label: "routes missing",
            yaml: "log: 1",
            keyPath: "routes",
            message: "expected a list, got nothing"
        ),
        Rejection(label: "routes null", yaml: "routes:", keyPath: "routes", message: "expected a list, got null"),
        Rejection(
            label: "routes mapping",
            yaml: "routes: {}",
            keyPath: "routes",
            message: "expected a list, got an empty mapping"
        ),
        Rejection(
            label: "routes string",
            yaml: "routes: api.github.com",
            keyPath: "routes",
            message: "expected a list, got \"api.github.com\""
        ),
        Rejection(
            label: "document is a list",
            yaml: "- routes: []",
            keyPath: "",
            message: "expected a mapping, got a list"
        ),
        Rejection(
            label: "document is a string",
            yaml: "hello",
            keyPath: "",
            message: "expected a mapping, got \"hello\""
        ),
        Rejection(
            label: "empty document",
            yaml: "",
            keyPath: "",
            message: "expected a mapping, got an empty document"
        ),
        Rejection(
            label: "comment-only document",
            yaml: "# nothing here\n\n",
            keyPath: "",
            message: "expected a mapping, got an empty document"
        ),
        Rejection(
            label: "non-string key",
            yaml: "routes: []\n1: x",
            keyPath: "",
            message: "expected string keys, got 1"
        ),
        Rejection(
            label: "merge key",
            yaml: "<<: {log: 1}\nroutes: []",
            keyPath: "",
            message: "expected string keys, got <<"
        ),
        Rejection(
            label: "odd key quoted in path",
            yaml: "routes: []\n\"a b\": 1",
            keyPath: "[\"a b\"]",
            message: "expected one of the keys log, routes, got an unknown key"
        ),
    ]

    static let routeCases: [Rejection] = [
        Rejection(
            label: "route is a string",
            yaml: "routes: [api.github.com]",
            keyPath: "routes[0]",
            message: "expected a mapping, got \"api.github.com\""
        ),
        Rejection(
            label: "route null",
            yaml: "routes:\n  -\n",
            keyPath: "routes[0]",
            message: "expected a mapping, got null"
        ),
        Rejection(
            label: "unknown route key",
            yaml: oneRoute("hots: x"),
            keyPath: "routes[0].hots",
            message: "expected one of the keys host, auth_scheme, token_env, matches, git, dlp, got an unknown key"
        ),
        Rejection(
            label: "token_ref is not a routes.yaml key",
            yaml: oneRoute("auth_scheme: token\ntoken_ref: X"),
            keyPath: "routes[0].token_ref",
            message: "got an unknown key"
        ),
        Rejection(
            label: "host missing",
            yaml: "routes:\n  - git: {fetch: true}",
            keyPath: "routes[0].host",
            message: "expected a host name, got nothing"
        ),
        Rejection(
            label: "host integer",
            yaml: "routes:\n  - host: 1",
            keyPath: "routes[0].host",
            message: "expected a host name, got 1"
        ),
        Rejection(
            label: "host list",
            yaml: "routes:\n  - host: [a]",
            keyPath: "routes[0].host",
            message: "expected a host name, got a list"
        ),
        Rejection(
            label: "host with scheme",
            yaml: "routes:\n  - host: https://api.github.com",
            keyPath: "routes[0].host",
            message: "expected a host without a scheme, got \"https://api.github.com\""
        ),
        Rejection(
            label: "host with path",
            yaml: "routes:\n  - host: api.github.com/repos",
            keyPath: "routes[0].host",
            message: "expected a host without a path, got \"api.github.com/repos\""
        ),
        Rejection(
            label: "host port 0",
            yaml: "routes:\n  - host: \"a.example:0\"",
            keyPath: "routes[0].host",
            message: "expected a port from 1 to 65535, got \"a.example:0\""
        ),
        Rejection(
            label: "bare star",
            yaml: "routes:\n  - host: \"*\"",
            keyPath: "routes[0].host",
            message: "expected a wildcard only as a leading \"*.\" followed by a domain, got \"*\""
        ),
        Rejection(
            label: "second route bad",
            yaml: "routes:\n  - host: a.example\n  - host: \"a b\"",
            keyPath: "routes[1].host",
            message: "expected a host without whitespace or control characters, got \"a b\""
        ),
        Rejection(
            label: "duplicate hosts",
            yaml: "routes:\n  - host: a.example\n  - host: b.example\n  - host: A.Example",
            keyPath: "routes[2].host",
            message: "expected a host not already used by routes[0], got \"a.example\""
        ),
        Rejection(
            label: "duplicate pinned wildcard",
            yaml: "routes:\n  - host: \"*.x.io:8443\"\n  - host: \"*.X.io:08443\"",
            keyPath: "routes[1].host",
            message: "expected a host not already used by routes[0], got \"*.x.io:8443\""
        ),
        Rejection(
            label: "duplicate IPv6 spelled differently",
            yaml: "routes:\n  - host: \"[::1]\"\n  - host: \"[0::0:1]\"",
            keyPath: "routes[1].host",
            message: "expected a host not already used by routes[0], got \"[::1]\""
        ),
    ]

    static let authCases: [Rejection] = [
        Rejection(
            label: "auth_scheme without token_env",
            yaml: oneRoute("auth_scheme: token"),
            keyPath: "routes[0].token_env",
            message: "expected an environment variable name (auth_scheme is set), got nothing"
        ),
        Rejection(
            label: "token_env without auth_scheme",
            yaml: oneRoute("token_env: EGRESS_TOKEN_0"),
            keyPath: "routes[0].auth_scheme",
            message: "expected one of bearer, token, basic, x-api-key (token_env is set), got nothing"
        ),
        Rejection(
            label: "bad auth_scheme",
            yaml: oneRoute("auth_scheme: oauth\ntoken_env: T"),
            keyPath: "routes[0].auth_scheme",
            message: "expected one of bearer, token, basic, x-api-key, got \"oauth\""
        ),
        Rejection(
            label: "auth_scheme boolean",
            yaml: oneRoute("auth_scheme: true\ntoken_env: T"),
            keyPath: "routes[0].auth_scheme",
            message: "expected one of bearer, token, basic, x-api-key, got true"
        ),
        Rejection(
            label: "token_env starting with a digit",
            yaml: oneRoute("auth_scheme: token\ntoken_env: 1TOKEN"),
            keyPath: "routes[0].token_env",
            message: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got \"1TOKEN\""
        ),
        Rejection(
            label: "token_env with a dash",
            yaml: oneRoute("auth_scheme: token\ntoken_env: MY-TOKEN"),
            keyPath: "routes[0].token_env",
            message: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got \"MY-TOKEN\""
        ),
        Rejection(
            label: "token_env empty",
            yaml: oneRoute("auth_scheme: token\ntoken_env: \"\""),
            keyPath: "routes[0].token_env",
            message: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got \"\""
        ),
        Rejection(
            label: "token_env a value with $",
            yaml: oneRoute("auth_scheme: token\ntoken_env: $TOKEN"),
            keyPath: "routes[0].token_env",
            message: "got \"$TOKEN\""
        ),
        Rejection(
            label: "token_env integer",
            yaml: oneRoute("auth_scheme: token\ntoken_env: 5"),
            keyPath: "routes[0].token_env",
            message: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got 5"
        ),
    ]

    static let matchCases: [Rejection] = [
        Rejection(
            label: "matches mapping",
            yaml: oneRoute("matches: {paths: []}"),
            keyPath: "routes[0].matches",
            message: "expected a list, got a mapping"
        ),
        Rejection(
            label: "matches null",
            yaml: oneRoute("matches:"),
            keyPath: "routes[0].matches",
            message: "expected a list, got null"
        ),
        Rejection(
            label: "match entry string",
            yaml: oneRoute("matches: [/repos/]"),
            keyPath: "routes[0].matches[0]",
            message: "expected a mapping, got \"/repos/\""
        ),
        Rejection(
            label: "unknown match key",
            yaml: oneRoute("matches:\n  - {}\n  - path: [/x]"),
            keyPath: "routes[0].matches[1].path",
            message: "expected one of the keys paths, methods, headers, got an unknown key"
        ),
        Rejection(
            label: "paths string",
            yaml: oneRoute("matches:\n  - paths: /x"),
            keyPath: "routes[0].matches[0].paths",
            message: "expected a list, got \"/x\""
        ),
        Rejection(
            label: "paths empty",
            yaml: oneRoute("matches:\n  - paths: []"),
            keyPath: "routes[0].matches[0].paths",
            message: "expected a non-empty list (omit the key to allow any), got an empty list"
        ),
        Rejection(
            label: "path item string",
            yaml: oneRoute("matches:\n  - paths: [/x]"),
            keyPath: "routes[0].matches[0].paths[0]",
            message: "expected a mapping, got \"/x\""
        ),
        Rejection(
            label: "unknown path key",
            yaml: oneRoute("matches:\n  - paths: [{kind: exact, value: /x}]"),
            keyPath: "routes[0].matches[0].paths[0].kind",
            message: "expected one of the keys type, value, got an unknown key"
        ),
        Rejection(
            label: "bad path type",
            yaml: oneRoute("matches:\n  - {}\n  - paths: [{type: glob, value: /x}]"),
            keyPath: "routes[0].matches[1].paths[0].type",
            message: "expected one of prefix, exact, regex, got \"glob\""
        ),
        Rejection(
            label: "path type wrong case",
            yaml: oneRoute("matches:\n  - paths: [{type: Exact, value: /x}]"),
            keyPath: "routes[0].matches[0].paths[0].type",
            message: "expected one of prefix, exact, regex, got \"Exact\""
        ),
        Rejection(
            label: "path value missing",
            yaml: oneRoute("matches:\n  - paths: [{type: exact}]"),
            keyPath: "routes[0].matches[0].paths[0].value",
            message: "expected a path starting with \"/\" and without a query, got nothing"
        ),
        Rejection(
            label: "path value without slash",
            yaml: oneRoute("matches:\n  - paths: [{value: repos/}]"),
            keyPath: "routes[0].matches[0].paths[0].value",
            message: "expected a path starting with \"/\" and without a query, got \"repos/\""
        ),
        Rejection(
            label: "path value empty",
            yaml: oneRoute("matches:\n  - paths: [{value: \"\"}]"),
            keyPath: "routes[0].matches[0].paths[0].value",
            message: "expected a path starting with \"/\" and without a query, got \"\""
        ),
        Rejection(
            label: "path value with query",
            yaml: oneRoute("matches:\n  - paths: [{type: exact, value: \"/s?q=1\"}]"),
            keyPath: "routes[0].matches[0].paths[0].value",
            message: "expected a path starting with \"/\" and without a query, got \"/s?q=1\""
        ),
        Rejection(
            label: "path value integer",
            yaml: oneRoute("matches:\n  - paths: [{type: regex, value: 1}]"),
            keyPath: "routes[0].matches[0].paths[0].value",
            message: "expected a regular expression, got 1"
        ),
        Rejection(
            label: "bad path regex",
            yaml: oneRoute("matches:\n  - paths:\n      - {value: /ok}\n      - {type: regex, value: \"/repos/(\"}"),
            keyPath: "routes[0].matches[0].paths[1].value",
            message: "expected a regular expression that compiles, got \"/repos/(\" ("
        ),
        Rejection(
            label: "methods string",
            yaml: oneRoute("matches:\n  - methods: GET"),
            keyPath: "routes[0].matches[0].methods",
            message: "expected a list, got \"GET\""
        ),
        Rejection(
            label: "methods empty",
            yaml: oneRoute("matches:\n  - methods: []"),
            keyPath: "routes[0].matches[0].methods",
            message: "expected a non-empty list (omit the key to allow any), got an empty list"
        ),
        Rejection(
            label: "method with space",
            yaml: oneRoute("matches:\n  - methods: [GET, \"PO ST\"]"),
            keyPath: "routes[0].matches[0].methods[1]",
            message: "expected an HTTP method, got \"PO ST\""
        ),
        Rejection(
            label: "method empty",
            yaml: oneRoute("matches:\n  - methods: [\"\"]"),
            keyPath: "routes[0].matches[0].methods[0]",
            message: "expected an HTTP method, got \"\""
        ),
        Rejection(
            label: "method integer",
            yaml: oneRoute("matches:\n  - methods: [1]"),
            keyPath: "routes[0].matches[0].methods[0]",
            message: "expected an HTTP method, got 1"
        ),
        Rejection(
            label: "method mapping",
            yaml: oneRoute("matches:\n  - methods: [{GET: 1}]"),
            keyPath: "routes[0].matches[0].methods[0]",
            message: "expected an HTTP method, got a mapping"
        ),
        Rejection(
            label: "headers mapping",
            yaml: oneRoute("matches:\n  - headers: {accept: x}"),
            keyPath: "routes[0].matches[0].headers",
            message: "expected a list, got a mapping"
        ),
        Rejection(
            label: "headers empty",
            yaml: oneRoute("matches:\n  - headers: []"),
            keyPath: "routes[0].matches[0].headers",
            message: "expected a non-empty list (omit the key to allow any), got an empty list"
        ),
        Rejection(
            label: "header item string",
            yaml: oneRoute("matches:\n  - headers: [accept]"),
            keyPath: "routes[0].matches[0].headers[0]",
            message: "expected a mapping, got \"accept\""
        ),
        Rejection(
            label: "unknown header key",
            yaml: oneRoute("matches:\n  - headers: [{name: a, vaule: b}]"),
            keyPath: "routes[0].matches[0].headers[0].vaule",
            message: "expected one of the keys name, value, type, got an unknown key"
        ),
        Rejection(
            label: "header name missing",
            yaml: oneRoute("matches:\n  - headers: [{value: b}]"),
            keyPath: "routes[0].matches[0].headers[0].name",
            message: "expected a header name, got nothing"
        ),
        Rejection(
            label: "header name with colon",
            yaml: oneRoute("matches:\n  - headers: [{name: \"a:b\", value: b}]"),
            keyPath: "routes[0].matches[0].headers[0].name",
            message: "expected a header name, got \"a:b\""
        ),
        Rejection(
            label: "header value missing",
            yaml: oneRoute("matches:\n  - headers: [{name: a}]"),
            keyPath: "routes[0].matches[0].headers[0].value",
            message: "expected a header value, got nothing"
        ),
        Rejection(
            label: "header value integer",
            yaml: oneRoute("matches:\n  - headers: [{name: a, value: 1}]"),
            keyPath: "routes[0].matches[0].headers[0].value",
            message: "expected a header value, got 1"
        ),
        Rejection(
            label: "header value null",
            yaml: oneRoute("matches:\n  - headers: [{name: a, value: }]"),
            keyPath: "routes[0].matches[0].headers[0].value",
            message: "expected a header value, got null"
        ),
        Rejection(
            label: "bad header type",
            yaml: oneRoute("matches:\n  - headers: [{name: a, type: suffix, value: b}]"),
            keyPath: "routes[0].matches[0].headers[0].type",
            message: "expected one of exact, prefix, regex, got \"suffix\""
        ),
        Rejection(
            label: "bad header regex",
            yaml: oneRoute(
                "matches:\n  - headers:\n      - {name: a, value: b}\n      - {name: c, type: regex, value: \"[a-\"}"
            ),
            keyPath: "routes[0].matches[0].headers[1].value",
            message: "expected a regular expression that compiles, got \"[a-\" ("
        ),
    ]

    static let gitCases: [Rejection] = [
        Rejection(
            label: "git boolean",
            yaml: oneRoute("git: true"),
            keyPath: "routes[0].git",
            message: "expected a mapping, got true"
        ),
        Rejection(
            label: "git list",
            yaml: oneRoute("git: [fetch]"),
            keyPath: "routes[0].git",
            message: "expected a mapping, got a list"
        ),
        Rejection(
            label: "unknown git key",
            yaml: oneRoute("git: {fetch: true, push: true}"),
            keyPath: "routes[0].git.push",
            message: "expected one of the keys fetch, got an unknown key"
        ),
        Rejection(
            label: "fetch quoted",
            yaml: oneRoute("git: {fetch: \"true\"}"),
            keyPath: "routes[0].git.fetch",
            message: "expected true or false, got \"true\""
        ),
        Rejection(
            label: "fetch yes",
            yaml: oneRoute("git: {fetch: yes}"),
            keyPath: "routes[0].git.fetch",
            message: "expected true or false, got yes"
        ),
        Rejection(
            label: "fetch 1",
            yaml: oneRoute("git: {fetch: 1}"),
            keyPath: "routes[0].git.fetch",
            message: "expected true or false, got 1"
        ),
        Rejection(
            label: "fetch null",
            yaml: oneRoute("git: {fetch: }"),
            keyPath: "routes[0].git.fetch",
            message: "expected true or false, got null"
        ),
    ]

    static let dlpCases: [Rejection] = [
        Rejection(
            label: "dlp list",
            yaml: oneRoute("dlp: []"),
            keyPath: "routes[0].dlp",
            message: "expected a mapping, got an empty list"
        ),
        Rejection(
            label: "dlp false",
            yaml: oneRoute("dlp: false"),
            keyPath: "routes[0].dlp",
            message: "expected a mapping, got false"
        ),
        Rejection(
            label: "unknown dlp key",
            yaml: oneRoute("dlp: {outbound: block}"),
            keyPath: "routes[0].dlp.outbound",
            message:
                "expected one of the keys outbound_detectors, inbound_detectors, outbound_on_match, inbound_on_match, inbound_threshold, got an unknown key"
        ),
        Rejection(
            label: "outbound_detectors true",
            yaml: oneRoute("dlp: {outbound_detectors: true}"),
            keyPath: "routes[0].dlp.outbound_detectors",
            message: "expected a list of detector names or false, got true"
        ),
        Rejection(
            label: "inbound_detectors true",
            yaml: oneRoute("dlp: {inbound_detectors: true}"),
            keyPath: "routes[0].dlp.inbound_detectors",
            message: "expected a list of detector names or false, got true"
        ),
        Rejection(
            label: "detectors string",
            yaml: oneRoute("dlp: {inbound_detectors: prompt_injection}"),
            keyPath: "routes[0].dlp.inbound_detectors",
            message: "expected a list of detector names or false, got \"prompt_injection\""
        ),
        Rejection(
            label: "detectors quoted false",
            yaml: oneRoute("dlp: {outbound_detectors: \"false\"}"),
            keyPath: "routes[0].dlp.outbound_detectors",
            message: "expected a list of detector names or false, got \"false\""
        ),
        Rejection(
            label: "detectors null",
            yaml: oneRoute("dlp: {outbound_detectors: }"),
            keyPath: "routes[0].dlp.outbound_detectors",
            message: "expected a list of detector names or false, got null"
        ),
        Rejection(
            label: "detector name empty",
            yaml: oneRoute("dlp: {outbound_detectors: [a, \"\"]}"),
            keyPath: "routes[0].dlp.outbound_detectors[1]",
            message: "expected a detector name, got \"\""
        ),
        Rejection(
            label: "detector name integer",
            yaml: oneRoute("dlp: {outbound_detectors: [1]}"),
            keyPath: "routes[0].dlp.outbound_detectors[0]",
            message: "expected a detector name, got 1"
        ),
        Rejection(
            label: "detector name twice",
            yaml: oneRoute("dlp: {inbound_detectors: [a, b, a]}"),
            keyPath: "routes[0].dlp.inbound_detectors[2]",
            message: "expected each detector once, got \"a\""
        ),
        Rejection(
            label: "bad outbound_on_match",
            yaml: oneRoute("dlp: {outbound_on_match: allow}"),
            keyPath: "routes[0].dlp.outbound_on_match",
            message: "expected one of block, redact, supervise, warn, got \"allow\""
        ),
        Rejection(
            label: "inbound_on_match redact",
            yaml: oneRoute("dlp: {inbound_on_match: redact}"),
            keyPath: "routes[0].dlp.inbound_on_match",
            message: "expected one of warn, block, got \"redact\""
        ),
        Rejection(
            label: "inbound_threshold unknown",
            yaml: oneRoute("dlp: {inbound_threshold: critical}"),
            keyPath: "routes[0].dlp.inbound_threshold",
            message: "expected one of low, medium, high, got \"critical\""
        ),
        Rejection(
            label: "on_match boolean",
            yaml: oneRoute("dlp: {inbound_on_match: true}"),
            keyPath: "routes[0].dlp.inbound_on_match",
            message: "expected one of warn, block, got true"
        ),
        Rejection(
            label: "unknown outbound detector",
            yaml: oneRoute("dlp: {outbound_detectors: [known, nope]}"),
            keyPath: "routes[0].dlp.outbound_detectors[1]",
            message: "expected a known detector name, got \"nope\"",
            knownDetectors: ["known"]
        ),
        Rejection(
            label: "unknown inbound detector",
            yaml: oneRoute("dlp: {inbound_detectors: [nope]}"),
            keyPath: "routes[0].dlp.inbound_detectors[0]",
            message: "expected a known detector name, got \"nope\"",
            knownDetectors: []
        ),
    ]

    @Test(arguments: logCases + documentCases + routeCases + authCases + matchCases + gitCases + dlpCases)
    func rejects(_ rejection: Rejection) throws {
        let error = try #require(parseFailure(rejection.yaml, knownDetectors: rejection.knownDetectors))
        #expect(error.file == "routes.yaml")
        #expect(error.keyPath == rejection.keyPath)
        #expect(error.line == nil)
        if rejection.message.hasPrefix("expected"), !rejection.message.hasSuffix("(") {
            #expect(error.message == rejection.message)
        } else {
            #expect(error.message.contains(rejection.message))
        }
        let prefix = rejection.keyPath.isEmpty ? "routes.yaml: " : "routes.yaml: \(rejection.keyPath): "
        #expect(error.description == prefix + error.message)
        #expect(!error.description.contains("\n"))
    }

    @Test func unknownDetectorsAreOnlyCheckedWhenACatalogIsGiven() {
        let yaml = oneRoute("dlp: {outbound_detectors: [anything_goes]}")
        #expect(parseFailure(yaml) == nil)
        #expect(parseFailure(yaml, knownDetectors: ["anything_goes"]) == nil)
        #expect(parseFailure(yaml, knownDetectors: ["other"]) != nil)
    }

    @Test func examplesFromTheBrief() throws {
        let glob = try #require(
            parseFailure(oneRoute("matches:\n  - {}\n  - paths: [{type: glob, value: /x}]"))
        )
        #expect(
            glob.description
                == #"routes.yaml: routes[0].matches[1].paths[0].type: expected one of prefix, exact, regex, got "glob""#
        )
        let log = try #require(parseFailure("log: true\nroutes: []"))
        #expect(log.description == "routes.yaml: log: expected the integer 0, 1 or 2, got true")
    }

    @Test func theFileNameIsTheOneGiven() throws {
        do {
            _ = try RoutesConfig.parse(yaml: "log: 7\nroutes: []", file: "/etc/egress/routes.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/etc/egress/routes.yaml: log: expected the integer 0, 1 or 2, got 7")
        }
    }

    @Test func longValuesAreCutInMessages() throws {
        let long = String(repeating: "a", count: 200)
        let error = try #require(parseFailure(oneRoute("auth_scheme: \(long)\ntoken_env: T")))
        #expect(
            error.message
                == "expected one of bearer, token, basic, x-api-key, got \"\(String(repeating: "a", count: 80))…\""
        )
    }

    // MARK: YAML-level errors

    @Test func syntaxErrorNamesTheLine() throws {
        let error = try #require(parseFailure("log: 1\nroutes:\n  - host: [a\n"))
        #expect(error.keyPath == nil)
        #expect(error.line != nil)
        #expect(error.description.hasPrefix("routes.yaml: line \(error.line ?? -1): "))
        #expect(!error.description.contains("\n"))
    }

    @Test func syntaxErrorLineIsWhereTheProblemIs() throws {
        let error = try #require(parseFailure("log: 1\nroutes: []\nfoo: bar: baz\n"))
        #expect(error.line == 3)
        #expect(error.description == "routes.yaml: line 3: \(error.message)")
        #expect(error.message.contains("mapping values are not allowed"))
    }

    @Test func duplicateKeysAreRejected() throws {
        let error = try #require(parseFailure("routes:\n  - host: a.example\n    host: b.example\n"))
        #expect(error.line == 2)
        #expect(error.description == #"routes.yaml: line 2: duplicate key "host""#)
    }

    @Test func duplicateKeysDifferingOnlyInQuotingAreRejected() throws {
        let error = try #require(parseFailure("log: 1\n\"log\": 2\nroutes: []\n"))
        #expect(error.message.contains("duplicate key \"log\""))
    }

    @Test func severalDocumentsAreRejected() throws {
        let error = try #require(parseFailure("routes: []\n---\nroutes: []\n"))
        #expect(error.line == 2)
        #expect(error.message.contains("another document"))
    }

    @Test func undefinedAliasIsASyntaxError() throws {
        let error = try #require(parseFailure("routes: *nothing\n"))
        #expect(error.line == 1)
        #expect(error.keyPath == nil)
    }
}
