import Foundation

/// Three Linux network namespaces standing in for a bottle (README, "Deploying as a sidecar"): the agent's, whose only
/// link goes to the sidecar's; the sidecar's, with a second link to the upstream's. Addresses are
/// documentation ranges (RFC 5737) that exist only on these links. `destroy()` removes everything.
///
///     agent 192.0.2.2 ── 192.0.2.1 sidecar 198.51.100.1 ── 198.51.100.2 upstream
struct NetworkTopology {
    static let agentAddress = "192.0.2.2"
    static let sidecarInside = "192.0.2.1"
    static let sidecarOutside = "198.51.100.1"
    static let upstreamAddress = "198.51.100.2"

    let agent: String
    let sidecar: String
    let upstream: String
    private let tag: String

    static var ip: String {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/sbin/ip"
    }

    init() {
        tag = String(getpid() % 100_000)
        agent = "egress-agent-\(tag)"
        sidecar = "egress-sidecar-\(tag)"
        upstream = "egress-upstream-\(tag)"
    }

    /// The agent's resolver points at the sidecar, where nothing answers DNS.
    var agentResolvConf: String { "/etc/netns/\(agent)/resolv.conf" }

    func create() async throws {
        await destroy()
        let agentLink = "ea\(tag)"
        let sidecarToAgent = "esa\(tag)"
        let sidecarToUpstream = "esu\(tag)"
        let upstreamLink = "eu\(tag)"
        let steps: [[String]] = [
            ["netns", "add", agent], ["netns", "add", sidecar], ["netns", "add", upstream],
            ["link", "add", agentLink, "type", "veth", "peer", "name", sidecarToAgent],
            ["link", "set", agentLink, "netns", agent], ["link", "set", sidecarToAgent, "netns", sidecar],
            ["link", "add", upstreamLink, "type", "veth", "peer", "name", sidecarToUpstream],
            ["link", "set", upstreamLink, "netns", upstream], ["link", "set", sidecarToUpstream, "netns", sidecar],
            ["-n", agent, "addr", "add", "\(Self.agentAddress)/24", "dev", agentLink],
            ["-n", sidecar, "addr", "add", "\(Self.sidecarInside)/24", "dev", sidecarToAgent],
            ["-n", sidecar, "addr", "add", "\(Self.sidecarOutside)/24", "dev", sidecarToUpstream],
            ["-n", upstream, "addr", "add", "\(Self.upstreamAddress)/24", "dev", upstreamLink],
            ["-n", agent, "link", "set", agentLink, "up"], ["-n", agent, "link", "set", "lo", "up"],
            ["-n", sidecar, "link", "set", sidecarToAgent, "up"], ["-n", sidecar, "link", "set", sidecarToUpstream, "up"],
            ["-n", sidecar, "link", "set", "lo", "up"],
            ["-n", upstream, "link", "set", upstreamLink, "up"], ["-n", upstream, "link", "set", "lo", "up"],
        ]
        for step in steps {
            let result = try await runProcess(Self.ip, step)
            guard result.status == 0 else {
                throw TestFailure("ip \(step.joined(separator: " ")) failed: \(result.stderr)")
            }
        }
        try FileManager.default.createDirectory(
            atPath: (agentResolvConf as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try "nameserver \(Self.sidecarInside)\n".write(toFile: agentResolvConf, atomically: true, encoding: .utf8)
    }

    /// Deleting a namespace deletes its veth ends, and with them their peers.
    func destroy() async {
        for namespace in [agent, sidecar, upstream] {
            _ = try? await runProcess(Self.ip, ["netns", "delete", namespace])
        }
        try? FileManager.default.removeItem(atPath: (agentResolvConf as NSString).deletingLastPathComponent)
    }

    /// `ip netns exec NAMESPACE` as a launcher prefix.
    func exec(in namespace: String) -> [String] { [Self.ip, "netns", "exec", namespace] }

    func run(in namespace: String, _ arguments: [String], environment: [String: String]) async throws -> ProcessResult {
        try await runProcess(Self.ip, ["netns", "exec", namespace] + arguments, environment: environment)
    }
}
