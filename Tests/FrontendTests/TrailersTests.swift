import EgressRoutes
import NIOCore
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("Trailers")
struct TrailersTests {
    typealias Machine = ExchangeStateMachine<ExchangeStateMachineTests.Conn>
    typealias Tests = ExchangeStateMachineTests

    /// The machine's own tests' policy, configuration and held-bytes budget.
    let base = ExchangeStateMachineTests()
    var budget: HeldBytesBudget { base.budget }

    func machine() -> Machine { base.machine() }

    static let postHead = Tests.head(.POST, "http://plain.test/rpc", [("transfer-encoding", "chunked"), ("te", "trailers")])

    @Test func requestTrailersGoUpstreamWithTheEndWithoutFramingOrCredentialFields() throws {
        var machine = machine()
        let plan = Tests.plan(Self.postHead)
        #expect(plan.upstreamHead.headers["te"] == ["trailers"], "TE: trailers is passed on")
        _ = machine.handle(Tests.admitted(Self.postHead))
        let id = Machine.ExchangeID(value: 1)
        let conn = Tests.Conn(number: 1)
        _ = machine.handle(Tests.acquired(id, conn.number, reused: false))
        #expect(machine.handle(.requestBody(Tests.bytes("x"))) == [.writeUpstreamBody(conn, Tests.bytes("x"))])
        let trailers = HTTPHeaders([("x-checksum", "abc"), ("content-length", "7"), ("authorization", "Bearer agent")])
        #expect(machine.handle(.requestTrailers(trailers)) == [])
        let end = machine.handle(.requestEnd)
        #expect(end.first == .writeUpstreamEnd(conn, trailers: HTTPHeaders([("x-checksum", "abc")])))
    }

    @Test func requestTrailersOnAnOutboundDLPRouteAreRefused() throws {
        var machine = machine()
        let head = Tests.head(.POST, "http://held.test/rpc", [("transfer-encoding", "chunked")])
        _ = machine.handle(Tests.admitted(head))
        _ = machine.handle(.requestBody(Tests.bytes("x")))
        let actions = machine.handle(.requestTrailers(HTTPHeaders([("x-leak", "value")])))
        let refusal = try #require(Tests.refusal(in: actions))
        #expect(refusal.refusal.status == .badRequest)
        #expect(refusal.refusal.reason.contains("trailers"))
        #expect(!actions.contains { if case .scanRequest = $0 { true } else { false } }, "never scanned without them, never sent")
    }

    @Test func responseTrailersAreWrittenWithTheEnd() throws {
        var machine = machine()
        _ = machine.handle(Tests.admitted(Tests.head(.GET, "http://plain.test/x")))
        _ = machine.handle(.requestEnd)
        let id = Machine.ExchangeID(value: 1)
        _ = machine.handle(Tests.acquired(id, 1, reused: false))
        _ = machine.handle(.responseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked"])))
        _ = machine.handle(.responseBody(Tests.bytes("ok"), agentWritable: true))
        _ = machine.handle(.responseTrailers(HTTPHeaders([("grpc-status", "0"), ("transfer-encoding", "chunked")])))
        let end = machine.handle(.responseEnd)
        #expect(end.contains(.writeResponseEnd(releasingHeld: 0, trailers: HTTPHeaders([("grpc-status", "0")]))))
    }

    @Test func heldResponseTrailersAreScannedAndKeepTheBodyChunked() throws {
        var machine = machine()
        _ = machine.handle(Tests.admitted(Tests.head(.GET, "http://inblock.test/x")))
        _ = machine.handle(.requestEnd)
        let id = Machine.ExchangeID(value: 1)
        _ = machine.handle(Tests.acquired(id, 1, reused: false))
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/plain", "content-length": "2"])
        _ = machine.handle(.responseHead(head))
        _ = machine.handle(.responseBody(Tests.bytes("ok"), agentWritable: true))
        let trailers = HTTPHeaders([("grpc-message", "fine")])
        _ = machine.handle(.responseTrailers(trailers))
        let ended = machine.handle(.responseEnd)
        let scan = try #require(
            ended.compactMap { if case .scanResponse(_, let scan) = $0 { scan } else { nil } }.first
        )
        #expect(scan.trailers == trailers)
        let delivered = machine.handle(.responseScanned(id, .deliver))
        let agentHead = try #require(delivered.compactMap { if case .writeResponseHead(let head) = $0 { head } else { nil } }.first)
        #expect(agentHead.headers["content-length"].isEmpty)
        #expect(agentHead.headers["transfer-encoding"] == ["chunked"])
        #expect(delivered.contains { if case .writeResponseEnd(_, trailers) = $0 { true } else { false } })
        budget.giveBack(budget.heldBytes)
    }

    @Test func fieldsThatMustNotBeTrailersAreDropped() {
        let kept = TrailerFields.forwardable(
            HTTPHeaders([
                ("grpc-status", "0"), ("Content-Length", "1"), ("host", "other.test"), ("x-api-key", "k"),
                ("connection", "x-gone"), ("x-gone", "1"), ("set-cookie", "a=b"),
            ])
        )
        #expect(kept == HTTPHeaders([("grpc-status", "0")]))
        #expect(TrailerFields.forwardable(HTTPHeaders([("content-length", "1")])) == nil)
    }

    @Test func aTrailersOnlyGRPCStatusMovesToTheTrailers() {
        var headers = HTTPHeaders([("content-type", "application/grpc"), ("grpc-status", "5"), ("grpc-message", "not found")])
        #expect(TrailerFields.liftTrailersOnlyStatus(from: &headers) == HTTPHeaders([("grpc-status", "5"), ("grpc-message", "not found")]))
        #expect(headers == HTTPHeaders([("content-type", "application/grpc")]))
        var plain = HTTPHeaders([("content-type", "text/plain"), ("grpc-status", "5")])
        #expect(TrailerFields.liftTrailersOnlyStatus(from: &plain) == nil, "only a gRPC response")
        var web = HTTPHeaders([("content-type", "application/grpc-web+proto"), ("grpc-status", "5")])
        #expect(TrailerFields.liftTrailersOnlyStatus(from: &web) == nil, "grpc-web reads its status elsewhere")
        var proto = HTTPHeaders([("content-type", "application/grpc+proto"), ("grpc-status", "0")])
        #expect(TrailerFields.liftTrailersOnlyStatus(from: &proto) == HTTPHeaders([("grpc-status", "0")]))
    }
}
