import Foundation
import NIOCore
import Testing

@testable import Frontend

#if canImport(Glibc)
import Glibc
#endif

/// Slow, idle and flooding agents meet a deadline or a cap with a clear refusal, and the proxy
/// goes on serving (docs/ARCHITECTURE.md, "Deadlines" and "Caps").
@Suite("deadlines and caps", .timeLimit(.minutes(2)))
struct LimitsTests {
    static let routes = "log: 1\nroutes:\n  - host: api.test\n\(dlpOff)\n"

    static func timeouts(
        head: TimeAmount = .seconds(20),
        idle: TimeAmount = .seconds(75),
        hello: TimeAmount = .seconds(10),
        handshake: TimeAmount = .seconds(10)
    ) -> ConnectionTimeouts {
        var timeouts = ConnectionTimeouts()
        timeouts.requestHead = head
        timeouts.idle = idle
        timeouts.clientHello = hello
        timeouts.tlsHandshake = handshake
        return timeouts
    }

    @Test("a request head that never completes gets 408 and the connection closes (slowloris)")
    func requestHeadTimeout() async throws {
        try await Scenario.run(routes: Self.routes, connectionTimeouts: Self.timeouts(head: .milliseconds(400))) { s in
            let client = try await RawClient.connect(port: s.proxy.port)
            try await client.send("GET https://api.test/ HTTP/1.1\r\nHost: api.te")
            await client.waitForClose(seconds: 5)
            #expect(client.statuses == [408], "\(client.receivedText)")
            #expect(client.receivedText.contains("egress: request head not received within 0.4 s"))
            #expect(s.proxy.events.events("egress_block").contains { ($0["reason"] as? String)?.contains("request head") == true })
            #expect(s.upstream.requests.isEmpty)
            await client.close()
            // A well-behaved client is served meanwhile and afterwards.
            let ok = try await curl(s.proxy, ["-o", "/dev/null", "-w", "%{http_code}", "https://api.test/x"])
            #expect(ok.stdout == "200")
        }
    }

    @Test("a body held for DLP that stalls gets 408, the connection closes and its bytes go back")
    func heldBodyTimeout() async throws {
        var timeouts = Self.timeouts()
        timeouts.heldBody = .milliseconds(500)
        let routes = "log: 1\nroutes:\n  - host: api.test\n    dlp: {outbound_on_match: block, inbound_detectors: false}\n"
        try await Scenario.run(routes: routes, scanners: 1, connectionTimeouts: timeouts) { s in
            let client = try await RawClient.connect(port: s.proxy.port)
            try await client.send("POST http://api.test/upload HTTP/1.1\r\nHost: api.test\r\nContent-Length: 100\r\n\r\nslow")
            // Trickling bytes do not keep it alive.
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(150))
                try? await client.send("x")
            }
            await client.waitForClose(seconds: 5)
            #expect(client.statuses == [408], "\(client.receivedText)")
            #expect(client.receivedText.contains("egress: request body not received within 0.5 s"))
            #expect(s.proxy.events.events("egress_block").contains { ($0["path"] as? String) == "/upload" })
            #expect(s.upstream.requests.isEmpty)
            #expect(s.proxy.server.services.heldBytes.heldBytes == 0)
            await client.close()
        }
    }

    @Test("an idle connection is closed, before its first request and between requests")
    func idleTimeout() async throws {
        // Long enough that a loaded machine (the whole suite runs in parallel on 2 cores) still
        // sends the second client's request in time.
        try await Scenario.run(routes: Self.routes, connectionTimeouts: Self.timeouts(idle: .seconds(5))) { s in
            let silent = try await RawClient.connect(port: s.proxy.port)
            await silent.waitForClose(seconds: 15)
            #expect(!silent.channel.isActive)
            #expect(silent.receivedCount == 0)
            await silent.close()

            let client = try await RawClient.connect(port: s.proxy.port)
            // Refused locally (no route), so the connection stays open and goes idle again.
            try await client.send("GET http://evil.test/x HTTP/1.1\r\nHost: evil.test\r\n\r\n")
            await client.waitForResponses(1)
            #expect(client.statuses == [403])
            await client.waitForClose(seconds: 15)
            #expect(!client.channel.isActive)
            await client.close()
        }
    }

    @Test("a CONNECT that never starts TLS, and a handshake that stalls, are closed with a block event")
    func tunnelDeadlines() async throws {
        let timeouts = Self.timeouts(hello: .milliseconds(1500), handshake: .milliseconds(1500))
        try await Scenario.run(routes: Self.routes, connectionTimeouts: timeouts) { s in
            let silent = try await RawClient.connect(port: s.proxy.port)
            try await silent.send("CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
            await silent.waitForResponses(1)
            #expect(silent.statuses == [200])
            await silent.waitForClose(seconds: 5)
            #expect(!silent.channel.isActive)
            await silent.close()

            let stalled = try await RawClient.connect(port: s.proxy.port)
            try await stalled.send("CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
            await stalled.waitForResponses(1)
            try await stalled.send(bytes: [0x16, 0x03, 0x01])
            await stalled.waitForClose(seconds: 5)
            #expect(!stalled.channel.isActive)
            await stalled.close()

            let reasons = s.proxy.events.events("egress_block").compactMap { $0["reason"] as? String }
            #expect(reasons.contains("egress: no TLS ClientHello within 1.5 s of CONNECT"), "\(reasons)")
            #expect(reasons.contains("egress: TLS handshake not completed within 1.5 s"), "\(reasons)")
        }
    }

    @Test("connections over --max-connections get 503; a freed slot is usable again")
    func connectionCap() async throws {
        var limits = ProxyLimits()
        limits.maxConnections = 3
        try await Scenario.run(routes: Self.routes, limits: limits) { s in
            var held: [RawClient] = []
            for _ in 0..<3 {
                // Answered once, so it is surely counted before the next one connects.
                let client = try await RawClient.connect(port: s.proxy.port)
                try await client.send("GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n")
                await client.waitForResponses(1)
                #expect(client.statuses == [403])
                held.append(client)
            }
            let over = try await RawClient.connect(port: s.proxy.port)
            await over.waitForClose(seconds: 5)
            #expect(over.statuses == [503], "\(over.receivedText)")
            #expect(over.receivedText.contains("egress: too many agent connections"))
            await over.close()
            #expect(s.proxy.events.events("egress_block").contains { ($0["reason"] as? String)?.contains("too many agent connections") == true })
            await held.removeFirst().close()
            var served = false
            for _ in 0..<50 where !served {
                let reply = try await curl(s.proxy, ["-o", "/dev/null", "-w", "%{http_code}", "https://api.test/x"])
                served = reply.stdout == "200"
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
            for client in held { await client.close() }
        }
    }

    @Test("bodies held for DLP share --max-held-bytes: over it is 503 egress: busy, and the budget comes back")
    func heldBytesBudget() async throws {
        var limits = ProxyLimits()
        limits.maxHeldBytes = 5_000
        let routes = "log: 1\nroutes:\n  - host: api.test\n    dlp: {outbound_on_match: block, inbound_detectors: false}\n"
        try await Scenario.run(routes: routes, scanners: 1, limits: limits) { s in
            let big = try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", String(repeating: "a", count: 6_000), "https://api.test/big"])
            #expect(big.stdout.hasSuffix("\n503"), "\(big.stdout)")
            #expect(big.stdout.contains(#""reason":"egress: busy""#))
            // Held (1,500), decoded (1,500) and scanned with its head (about 1,600 in segments):
            // under 5,000; the scan request encoded from them (as much again, and the detector ids)
            // is held too, and takes it over.
            let medium = try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", String(repeating: "c", count: 1_500), "https://api.test/medium"])
            #expect(medium.stdout.hasSuffix("\n503"), "\(medium.stdout)")
            let small = try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", String(repeating: "b", count: 200), "https://api.test/small"])
            #expect(small.stdout.hasSuffix("\n200"), "\(small.stdout)")
            #expect(s.upstream.requests.map(\.head.uri) == ["/small"])
            for _ in 0..<50 where s.proxy.server.services.heldBytes.heldBytes != 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(s.proxy.server.services.heldBytes.heldBytes == 0)
        }
    }

    @Test("requests held for the operator are capped by --max-held-requests")
    func heldRequestsCap() async throws {
        var limits = ProxyLimits()
        limits.maxHeldRequests = 1
        let routes = "log: 1\nroutes:\n  - host: api.test\n    dlp: {inbound_detectors: false}\n"
        let secret = "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"
        try await Scenario.run(routes: routes, scanners: 1, limits: limits) { s in
            let first = Task { try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", "k=\(secret)", "https://api.test/one"]) }
            for _ in 0..<100 where s.proxy.supervision.pending().isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            #expect(s.proxy.supervision.pending().count == 1)
            let second = try await curl(s.proxy, ["-w", "\n%{http_code}", "-d", "k=\(secret)", "https://api.test/two"])
            #expect(second.stdout.hasSuffix("\n503"), "\(second.stdout)")
            #expect(second.stdout.contains("egress: too many requests held for the operator (1)"))
            for held in s.proxy.supervision.pending() { try s.proxy.supervision.decide(held.id, approve: false, by: .api) }
            let denied = try await first.value
            #expect(denied.stdout.hasSuffix("\n403"))
            #expect(s.upstream.requests.isEmpty)
        }
    }

    @Test("out of descriptors: accepting is reported, paused, and resumes by itself")
    func descriptorExhaustion() async throws {
        let directory = try TemporaryDirectory()
        try "log: 1\nroutes: []\n".write(toFile: directory.file("routes.yaml"), atomically: true, encoding: .utf8)
        let arguments = [
            "run", "--routes", directory.file("routes.yaml"), "--listen", "127.0.0.1:0", "--state-dir",
            directory.file("state"), "--scanners", "1", "--control", "unix:\(directory.file("c.sock"))",
        ]
        // How many descriptors the proxy needs at rest, measured on a first run.
        let probe = try RunningEgress(arguments: arguments, directory: directory)
        _ = try await probe.listenPort()
        let atRest = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(probe.process.pid)/fd").count
        _ = await probe.terminate()

        let limited = try RunningEgress(
            arguments: arguments,
            directory: directory,
            launcher: ["/usr/bin/prlimit", "--nofile=\(atRest + 4)"]
        )
        let port = try await limited.listenPort()
        var clients: [RawClient] = []
        for _ in 0..<12 { clients.append(try await RawClient.connect(port: port)) }
        for _ in 0..<60 where limited.events("egress_accept").isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let accept = try #require(limited.events("egress_accept").first)
        #expect((accept["error"] as? String)?.contains("EMFILE") == true, "\(accept)")
        for client in clients { await client.close() }
        // Once descriptors are free again, the listener serves by itself.
        var answered = false
        for _ in 0..<60 where !answered {
            let reply = try await runProcess(
                "/usr/bin/curl",
                ["-sS", "--max-time", "5", "-x", "http://127.0.0.1:\(port)", "-o", "/dev/null", "-w", "%{http_code}", "http://evil.test/"]
            )
            answered = reply.stdout == "403"
            if !answered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answered)
        #expect(limited.events("egress_accept").count <= 2, "reported at most once per 10 s")
        #expect(await limited.terminate() == 0)
    }
}
