import Foundation
import Testing
import Yams

/// The shipped deployment files (Dockerfile, compose.yaml, deploy/kubernetes.yaml) say what the
/// README and the topology test rely on. No Docker engine runs here, so the image itself is built
/// by operators; these checks keep its files from drifting from the tested install path.
@Suite("deployment files")
struct DeploymentFilesTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOf: InstalledEgress.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    static func yamlDocuments(_ path: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text(path)).compactMap { $0 as? [String: Any] }
    }

    @Test("the Dockerfile installs with scripts/install.sh and runs unprivileged with a health check")
    func dockerfile() throws {
        let lines = try Self.text("Dockerfile").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains { $0.hasPrefix("RUN scripts/install.sh ") })
        #expect(lines.filter { $0.hasPrefix("FROM ") }.count == 2)
        #expect(lines.contains("FROM debian:bookworm-slim"))
        let user = try #require(lines.last { $0.hasPrefix("USER ") })
        #expect(!user.contains("root") && user != "USER 0")
        #expect(lines.contains { $0.hasPrefix("HEALTHCHECK ") && $0.contains(#"["egress", "health"]"#) })
        #expect(lines.contains("EXPOSE 8080"))
        #expect(lines.contains { $0.hasPrefix("CMD ") && $0.contains("0.0.0.0:8080") && $0.contains("/etc/egress/routes.yaml") })
        let runtime = try #require(lines.first { $0.contains("libpcre2-8-0") })
        for package in ["libseccomp2", "ca-certificates", "zlib1g"] { #expect(runtime.contains(package)) }
        #expect(!lines.contains { $0.contains("--cap-add") || $0.contains("setcap") })
    }

    @Test("compose: the agent's only network is internal and shared with the sidecar alone")
    func compose() throws {
        let compose = try #require(try Self.yamlDocuments("compose.yaml").first)
        let services = try #require(compose["services"] as? [String: Any])
        let networks = try #require(compose["networks"] as? [String: Any])
        let agent = try #require(services["agent"] as? [String: Any])
        let egress = try #require(services["egress"] as? [String: Any])
        #expect(agent["networks"] as? [String] == ["bottle"])
        #expect((networks["bottle"] as? [String: Any])?["internal"] as? Bool == true)
        let egressNetworks = try #require(egress["networks"] as? [String: Any])
        #expect(Set(egressNetworks.keys) == ["bottle", "outside"])
        #expect(agent["ports"] == nil)
        #expect(agent["env_file"] == nil, "the agent must never get egress.env")
        // The control listener: on the sidecar's outside address, published on the host's loopback only.
        let ports = try #require(egress["ports"] as? [String])
        #expect(ports.allSatisfy { $0.hasPrefix("127.0.0.1:") })
        let environment = try #require(egress["environment"] as? [String: Any])
        let outsideAddress = (egressNetworks["outside"] as? [String: Any])?["ipv4_address"] as? String
        #expect(environment["EGRESS_CONTROL"] as? String == "\(outsideAddress ?? "?"):9090")
        #expect((egress["command"] as? [String])?.contains("0.0.0.0:8080") == true)
        #expect(egress["cap_drop"] as? [String] == ["ALL"])
        let agentVolumes = try #require(agent["volumes"] as? [String])
        #expect(!agentVolumes.contains { $0.contains("egress-state") || $0.contains("/srv/egress") })
    }

    @Test("kubernetes: the agent pod may reach only the egress pod's proxy port")
    func kubernetes() throws {
        let documents = try Self.yamlDocuments("deploy/kubernetes.yaml")
        let policies = documents.filter { $0["kind"] as? String == "NetworkPolicy" }
        let agentPolicy = try #require(
            policies.first {
                (($0["spec"] as? [String: Any])?["podSelector"] as? [String: Any])?["matchLabels"] as? [String: String]
                    == ["app.kubernetes.io/name": "agent"]
            }
        )
        let spec = try #require(agentPolicy["spec"] as? [String: Any])
        #expect(Set(spec["policyTypes"] as? [String] ?? []) == ["Ingress", "Egress"])
        let egressRules = try #require(spec["egress"] as? [[String: Any]])
        #expect(egressRules.count == 1)
        let rule = try #require(egressRules.first)
        let to = try #require(rule["to"] as? [[String: Any]])
        #expect(to.count == 1)
        #expect(
            (to.first?["podSelector"] as? [String: Any])?["matchLabels"] as? [String: String]
                == ["app.kubernetes.io/name": "egress"]
        )
        #expect((rule["ports"] as? [[String: Any]])?.map { $0["port"] as? Int } == [8080])
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let podSpec = try #require(
            ((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
        )
        #expect((podSpec["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true)
    }
}
