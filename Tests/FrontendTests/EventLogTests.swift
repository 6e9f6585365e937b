import EgressRoutes
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("Event log")
struct EventLogTests {
    @Test("events serialise as one line of JSON with the event name first")
    func serialisation() throws {
        let event = EgressEvent.block(
            reason: "egress: host not allowed: evil.test",
            context: RequestContext(host: "evil.test", method: "GET", path: "/a\"b\n\u{2028}\u{01}")
        )
        let line = event.json.serialized()
        #expect(line.hasPrefix(#"{"event":"egress_block","reason":"egress: host not allowed: evil.test""#))
        #expect(!line.contains("\n"))
        #expect(!line.contains("\u{2028}"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(parsed["path"] as? String == "/a\"b\n\u{2028}\u{01}")
    }

    @Test("levels filter events; the boot line is always written")
    func levels() {
        let lines = NIOLockedValueBox<[String]>([])
        let log = EventLog(level: .off) { line in lines.withLockedValue { $0.append(line) } }
        log.emitBoot(.boot(level: "off", listen: "127.0.0.1:1", routes: 0, scanners: 0))
        log.emit(.block(reason: "r", context: RequestContext(host: "h", method: "GET", path: "/")), minimum: .blocks)
        #expect(lines.withLockedValue { $0.count } == 1)
        let blocks = EventLog(level: .blocks) { line in lines.withLockedValue { $0.append(line) } }
        blocks.emit(.block(reason: "r", context: RequestContext(host: "h", method: "GET", path: "/")), minimum: .blocks)
        blocks.emit(.response(host: "h", status: 200, headers: [:], body: LoggedBody()), minimum: .full)
        #expect(lines.withLockedValue { $0.count } == 2)
    }

    @Test("bodies: text as body, binary as body_base64, over 1 MiB cut with body_truncated")
    func bodies() {
        var text = LoggedBody()
        text.append(Array("héllo".utf8))
        #expect(text.fields.map(\.0) == ["body"])
        var binary = LoggedBody()
        binary.append([0xFF, 0x00, 0xFE])
        #expect(binary.fields.first?.0 == "body_base64")
        #expect(binary.fields.first?.1 == .string("/wD+"))
        var big = LoggedBody()
        big.append([UInt8](repeating: UInt8(ascii: "a"), count: EgressEvent.bodyLogLimit - 1))
        big.append(Array("é".utf8))  // two bytes: the cut falls inside the character
        big.append(Array("tail".utf8))
        #expect(big.bytes.count == EgressEvent.bodyLogLimit)
        #expect(big.truncated)
        #expect(big.fields.map(\.0) == ["body", "body_truncated"])
    }

    @Test("concurrent writers never interleave inside a line")
    func wholeLines() async {
        let lines = NIOLockedValueBox<[String]>([])
        let log = EventLog(level: .full) { line in lines.withLockedValue { $0.append(line) } }
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<200 {
                        log.emit(
                            .block(
                                reason: String(repeating: "\(writer)", count: 500),
                                context: RequestContext(host: "h\(writer)", method: "GET", path: "/\(index)")
                            ),
                            minimum: .blocks
                        )
                    }
                }
            }
        }
        let all = lines.withLockedValue { $0 }
        #expect(all.count == 1600)
        #expect(all.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    @Test("level 2 logs the request after injection and the raw response", .timeLimit(.minutes(1)))
    func fullLevelThroughProxy() async throws {
        let routes = """
            log: 2
            routes:
              - host: "api.test"
                auth_scheme: bearer
                token_env: EGRESS_TOKEN_0
            \(dlpOff)
            """
        try await Scenario.run(routes: routes, environment: ["EGRESS_TOKEN_0": "operator-token"]) { s in
            let result = try await curl(
                s.proxy,
                [
                    "-H", "Authorization: Bearer agent-fake", "-d", #"{"q":1}"#, "https://api.test/v1/messages?beta=1",
                ]
            )
            #expect(result.status == 0)
            let request = try #require(s.proxy.events.events("egress_request").first)
            #expect(request["host"] as? String == "api.test")
            #expect(request["method"] as? String == "POST")
            #expect(request["path"] as? String == "/v1/messages")
            #expect(request["body"] as? String == #"{"q":1}"#)
            let headers = try #require(request["headers"] as? [String: String])
            #expect(headers["authorization"] == "Bearer operator-token")
            #expect(!s.proxy.events.lines.joined().contains("agent-fake"))
            let response = try #require(s.proxy.events.events("egress_response").first)
            #expect(response["status"] as? Int == 200)
            #expect((response["body"] as? String)?.contains("\"uri\"") == true)
        }
    }

    @Test("level 1 logs blocks but no traffic", .timeLimit(.minutes(1)))
    func blocksLevelThroughProxy() async throws {
        let routes = "log: 1\nroutes:\n  - host: \"api.test\"\n    matches: [{paths: [{value: /ok}]}]\n\(dlpOff)\n"
        try await Scenario.run(routes: routes) { s in
            _ = try await curl(s.proxy, ["https://api.test/ok"])
            _ = try await curl(s.proxy, ["https://api.test/no?token=abc"])
            #expect(s.proxy.events.events("egress_request").isEmpty)
            #expect(s.proxy.events.events("egress_response").isEmpty)
            let blocks = s.proxy.events.events("egress_block")
            #expect(blocks.count == 1)
            // The query can carry secrets: level 1 names the path only.
            #expect(blocks.first?["path"] as? String == "/no")
            #expect(!s.proxy.events.lines.joined().contains("abc"))
        }
    }
}
