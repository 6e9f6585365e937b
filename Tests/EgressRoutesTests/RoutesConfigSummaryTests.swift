import Testing

@testable import EgressRoutes

@Suite struct RoutesConfigSummaryTests {
    @Test func summarisesEachRoute() throws {
        let yaml = """
            log: 1
            routes:
              - host: api.github.com
                auth_scheme: token
                token_env: EGRESS_TOKEN_0
                matches: [{}, {methods: [GET]}]
                git: {fetch: true}
              - host: "*.example.com:8443"
                dlp:
                  outbound_detectors: [a, b]
                  inbound_detectors: false
                  outbound_on_match: block
                  inbound_on_match: block
            """
        let config = try RoutesConfig.parse(yaml: yaml, file: "routes.yaml")
        let expected = """
            routes.yaml: OK, 2 routes, log: blocks
              api.github.com  auth=token(EGRESS_TOKEN_0)  matches=2  git.fetch  dlp.out=default/supervise dlp.in=default/warn
              *.example.com:8443  auth=none  matches=any  dlp.out=a,b/block dlp.in=off/block
            """
        #expect(config.summary(file: "routes.yaml") == expected)
    }

    @Test func singularAndEmpty() {
        #expect(RoutesConfig().summary(file: "r.yaml") == "r.yaml: OK, 0 routes, log: off")
        let one = RoutesConfig(log: .full, routes: [Route(host: host("a.example"), matches: [])])
        #expect(
            one.summary(file: "r.yaml")
                == "r.yaml: OK, 1 route, log: full\n  a.example  auth=none  matches=0  dlp.out=default/supervise dlp.in=default/warn"
        )
    }
}
