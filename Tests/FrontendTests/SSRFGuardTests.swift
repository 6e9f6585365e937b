import Foundation
import Testing

@testable import Frontend

/// The SSRF guard through the real binary: names that resolve into the newer special-purpose
/// ranges are refused before any connection is attempted, so no packet leaves for them.
@Suite("SSRF guard through the proxy", .timeLimit(.minutes(2)))
struct SSRFGuardTests {
    @Test("shared, benchmarking, multicast, NAT64 and 6to4 targets are refused with their range")
    func newRangesAreRefused() async throws {
        let directory = try TemporaryDirectory()
        try "log: 1\nroutes:\n  - host: \"*.test\"\n    dlp: {outbound_detectors: false, inbound_detectors: false}\n"
            .write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let targets = [
            ("cgnat.test", "100.64.0.1", "100.64.0.0/10"),
            ("bench.test", "198.18.0.1", "198.18.0.0/15"),
            ("multicast.test", "224.0.0.1", "224.0.0.0/4"),
            ("nat64.test", "[64:ff9b::7f00:1]", "NAT64 of 127.0.0.0/8"),
            ("sixtofour.test", "[2002:a9fe:a9fe::1]", "6to4 of 169.254.0.0/16"),
        ]
        let running = try RunningEgress(
            arguments: [
                "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0", "--state-dir",
                directory.file("state"), "--scanners", "1", "--control", "unix:\(directory.file("c.sock"))",
            ] + targets.flatMap { ["--connect-to", "\($0.0):80:\($0.1):80"] },
            directory: directory
        )
        let port = try await running.listenPort()
        for (host, _, range) in targets {
            let reply = try await runProcess(
                "/usr/bin/curl",
                ["-sS", "--max-time", "10", "-x", "http://127.0.0.1:\(port)", "-w", "\n%{http_code}", "http://\(host)/"]
            )
            #expect(reply.stdout.hasSuffix("\n403"), "\(host): \(reply.stdout)")
            #expect(reply.stdout.contains("egress: upstream address not allowed"), "\(host): \(reply.stdout)")
            #expect(reply.stdout.contains(range), "\(host): \(reply.stdout)")
        }
        #expect(await running.terminate() == 0)
    }
}
