import NIOHTTP1
import Testing

@testable import Frontend

@Suite("Interim responses")
struct InterimResponseTests {
    @Test func anInterimHeadIsNotTheResponse() {
        var machine = ExchangeStateMachineTests().machine()
        typealias Tests = ExchangeStateMachineTests
        _ = machine.handle(Tests.admitted(Tests.head(.GET, "http://plain.test/x")))
        _ = machine.handle(.requestEnd)
        _ = machine.handle(Tests.acquired(.init(value: 1), 1, reused: false))
        #expect(machine.handle(.responseHead(HTTPResponseHead(version: .http2, status: .init(statusCode: 103)))) == [])
        let final = machine.handle(.responseHead(Tests.okHead))
        #expect(final.contains { if case .writeResponseHead = $0 { true } else { false } })
    }
}
