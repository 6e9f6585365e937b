import NIOCore
import NIOHTTP1
import Testing

@testable import Frontend

/// Inbound `warn` on an event stream: the stream passes at once, one scan of its events is in
/// flight at a time, and every counted byte comes back.
@Suite("Event copies under inbound warn")
struct EventCopyTests {
    typealias Machine = ExchangeStateMachine<ExchangeStateMachineTests.Conn>
    typealias Tests = ExchangeStateMachineTests

    /// The machine's own tests' policy, configuration and held-bytes budget.
    let base = ExchangeStateMachineTests()
    var budget: HeldBytesBudget { base.budget }

    func streaming(maxScanBytes: Int = 100) -> (Machine, Machine.ExchangeID) {
        var machine = base.machine(maxScanBytes: maxScanBytes)
        _ = machine.handle(Tests.admitted(Tests.head(.GET, "http://inwarn.test/stream")))
        _ = machine.handle(.requestEnd)
        let id = Machine.ExchangeID(value: 1)
        _ = machine.handle(Tests.acquired(id, 1, reused: false))
        _ = machine.handle(.responseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/event-stream"])))
        return (machine, id)
    }

    static func copies(_ actions: [Machine.Action]) -> [ClosedRange<Int>] {
        actions.compactMap { if case .scanEventCopy(_, let scan) = $0 { scan.events } else { nil } }
    }

    func release(_ actions: [Machine.Action]) {
        for case .releaseHeld(let count) in actions { budget.giveBack(count) }
        for case .writeResponseEnd(let count, _) in actions { budget.giveBack(count) }
    }

    @Test func oneScanInFlightTheRestWaitsAndIsNumbered() {
        var (machine, id) = streaming()
        var actions = machine.handle(.responseBody(Tests.bytes("data: a\n\ndata: b\n\nda"), agentWritable: true))
        #expect(actions.contains(.writeResponseBody(Tests.bytes("data: a\n\ndata: b\n\nda"))), "passed at once")
        #expect(Self.copies(actions) == [1...2])
        release(actions)
        actions = machine.handle(.responseBody(Tests.bytes("ta: c\n\n"), agentWritable: true))
        #expect(Self.copies(actions) == [], "a scan is in flight: the event waits")
        release(actions)
        #expect(budget.heldBytes == "data: c\n\n".utf8.count, "the waiting event is counted")
        actions = machine.handle(.responseBody(Tests.bytes("data: d\n\ndata: e"), agentWritable: true))
        release(actions)
        actions = machine.handle(.eventCopyScanned(id))
        #expect(Self.copies(actions) == [3...4])
        release(actions)
        actions = machine.handle(.responseEnd)
        #expect(Self.copies(actions) == [5...5], "the unterminated last event is scanned at the end")
        release(actions)
        #expect(budget.heldBytes == 0)
    }

    @Test func anEventTooLargeStopsTheScanningWithAWarningAtOnceNotTheStream() {
        var (machine, _) = streaming(maxScanBytes: 20)
        let actions = machine.handle(.responseBody(Tests.bytes("data: a\n\n" + String(repeating: "x", count: 40)), agentWritable: true))
        #expect(Self.copies(actions) == [1...1], "what ended before it is still scanned")
        #expect(actions.contains { if case .emit(let event, _) = $0 { event.name == "egress_warn" } else { false } })
        #expect(actions.contains { if case .writeResponseBody = $0 { true } else { false } })
        release(actions)
        let more = machine.handle(.responseBody(Tests.bytes("data: b\n\n"), agentWritable: true))
        #expect(Self.copies(more) == [])
        release(more)
        release(machine.handle(.responseEnd))
        #expect(budget.heldBytes == 0)
    }
}
