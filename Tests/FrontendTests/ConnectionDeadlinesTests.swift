import NIOCore
import NIOHTTP1
import Testing

@testable import Frontend

/// The pure pieces of the hostile-input path, driven without sockets.
@Suite("connection deadlines, screening and budgets")
struct ConnectionDeadlinesTests {
    static let timeouts: ConnectionTimeouts = {
        var timeouts = ConnectionTimeouts()
        timeouts.clientHello = .seconds(1)
        timeouts.tlsHandshake = .seconds(2)
        timeouts.idle = .seconds(3)
        timeouts.requestHead = .seconds(4)
        timeouts.heldBody = .seconds(5)
        return timeouts
    }()

    @Test func plainConnectionCycle() {
        var deadlines = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        #expect(deadlines.initialAction == .arm(.idle, .seconds(3)))
        #expect(deadlines.bytesReceived() == .arm(.requestHead, .seconds(4)))
        #expect(deadlines.bytesReceived() == .none, "more bytes of the same head change nothing")
        #expect(deadlines.requestHeadReceived() == .disarm)
        #expect(deadlines.bytesReceived() == .none, "a body streaming in is not a new request")
        #expect(deadlines.expired(.requestHead) == nil, "a stale timer does not act")
        #expect(deadlines.exchangeFinished() == .arm(.idle, .seconds(3)))
        #expect(deadlines.expired(.idle) == .idle)
        #expect(deadlines.expired(.idle) == nil, "expires once")
    }

    @Test func aPipelinedHeadThatBeganDuringAnExchangeIsUnderTheHeadDeadline() {
        var deadlines = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = deadlines.bytesReceived()
        _ = deadlines.requestHeadReceived()
        #expect(deadlines.bytesReceived() == .none)  // the body of this request
        #expect(deadlines.requestEnded() == .none)
        #expect(deadlines.bytesReceived() == .none)  // the next request, while this one is answered
        #expect(deadlines.exchangeFinished() == .arm(.requestHead, .seconds(4)))
        #expect(deadlines.requestHeadReceived() == .disarm)
        #expect(deadlines.bytesReceived() == .none)  // only a body: no next request began
        #expect(deadlines.requestEnded() == .none)
        #expect(deadlines.exchangeFinished() == .arm(.idle, .seconds(3)), "no next request: idle")
    }

    @Test func theRestOfARefusedRequestMustArriveInTime() {
        var deadlines = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = deadlines.bytesReceived()
        _ = deadlines.requestHeadReceived()
        #expect(deadlines.discardingBody() == .arm(.discardedBody, .seconds(4)))
        #expect(deadlines.bytesReceived() == .none, "more body bytes do not extend it")
        #expect(deadlines.expired(.discardedBody) == .discardedBody)

        var ended = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = ended.bytesReceived()
        _ = ended.requestHeadReceived()
        #expect(ended.requestEnded() == .none)
        #expect(ended.discardingBody() == .none, "nothing left to discard")
        #expect(ended.exchangeFinished() == .arm(.idle, .seconds(3)))
    }

    @Test func aBodyHeldForDLPMustEndInTime() {
        var deadlines = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = deadlines.bytesReceived()
        _ = deadlines.requestHeadReceived()
        #expect(deadlines.holdingRequestBody() == .arm(.heldBody, .seconds(5)))
        #expect(deadlines.bytesReceived() == .none, "body bytes do not restart it")
        #expect(deadlines.requestEnded() == .disarm, "the whole body is here: the scan has its own deadline")
        #expect(deadlines.expired(.heldBody) == nil)
        #expect(deadlines.exchangeFinished() == .arm(.idle, .seconds(3)))

        var stalled = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = stalled.requestHeadReceived()
        _ = stalled.holdingRequestBody()
        #expect(stalled.expired(.heldBody) == .heldBody)

        var refused = ConnectionDeadlines(tunnel: false, timeouts: Self.timeouts)
        _ = refused.requestHeadReceived()
        _ = refused.holdingRequestBody()
        #expect(refused.discardingBody() == .arm(.discardedBody, .seconds(4)), "refused mid-body: the rest under the discard deadline")
    }

    @Test func tunnelCycle() {
        var deadlines = ConnectionDeadlines(tunnel: true, timeouts: Self.timeouts)
        #expect(deadlines.initialAction == .arm(.clientHello, .seconds(1)))
        #expect(deadlines.expired(.idle) == nil)
        #expect(deadlines.bytesReceived() == .arm(.tlsHandshake, .seconds(2)))
        #expect(deadlines.handshakeCompleted() == .arm(.idle, .seconds(3)))
        #expect(deadlines.handshakeCompleted() == .none)
        #expect(deadlines.bytesReceived() == .arm(.requestHead, .seconds(4)))
        #expect(deadlines.expired(.requestHead) == .requestHead)
    }

    @Test func closingDisarmsAndNothingExpiresAfterwards() {
        var deadlines = ConnectionDeadlines(tunnel: true, timeouts: Self.timeouts)
        #expect(deadlines.connectionClosed() == .disarm)
        #expect(deadlines.expired(.clientHello) == nil)
        #expect(deadlines.bytesReceived() == .none)
        #expect(deadlines.requestHeadReceived() == .none)
    }

    static func head(_ headers: [(String, String)], method: HTTPMethod = .POST) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: HTTPHeaders(headers))
    }

    @Test func screening() {
        #expect(RequestScreening.refusal(for: Self.head([], method: .TRACE))?.status == .methodNotAllowed)
        #expect(RequestScreening.refusal(for: Self.head([], method: .RAW(value: "TRACK")))?.status == .methodNotAllowed)
        #expect(RequestScreening.refusal(for: Self.head([("Transfer-Encoding", "gzip, chunked")]))?.status == .notImplemented)
        #expect(RequestScreening.refusal(for: Self.head([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]))?.status == .notImplemented)
        #expect(RequestScreening.refusal(for: Self.head([("Transfer-Encoding", "chunked"), ("Content-Length", "3")]))?.status == .badRequest)
        #expect(RequestScreening.refusal(for: Self.head([("Content-Length", "3"), ("Content-Length", "4")]))?.status == .badRequest)
        #expect(RequestScreening.refusal(for: Self.head([("Content-Length", "99999999999999999999")]))?.reason == "egress: malformed content-length")
        #expect(RequestScreening.refusal(for: Self.head([("Transfer-Encoding", "Chunked")])) == nil)
        #expect(RequestScreening.refusal(for: Self.head([("Content-Length", " 3 ")])) == nil)
        #expect(RequestScreening.refusal(for: Self.head([], method: .GET)) == nil)
    }

    @Test func framing() {
        #expect(RequestBodyFraming(Self.head([("Transfer-Encoding", "chunked")])) == .chunked)
        #expect(RequestBodyFraming(Self.head([("Content-Length", "12")])) == .contentLength(12))
        #expect(RequestBodyFraming(Self.head([("Content-Length", "12 ")])) == .contentLength(12))
        #expect(RequestBodyFraming(Self.head([])) == .noBody)
        #expect(RequestBodyFraming(Self.head([("Content-Length", "+12")])) == nil)
        #expect(RequestBodyFraming(Self.head([("Content-Length", "9223372036854775808")])) == nil)
        var headers = HTTPHeaders([("Content-Length", "5"), ("transfer-encoding", "chunked"), ("x", "y")])
        RequestBodyFraming.contentLength(7).apply(to: &headers)
        #expect(headers["content-length"] == ["7"])
        #expect(headers["transfer-encoding"].isEmpty)
        #expect(headers["x"] == ["y"])
    }

    @Test func rateLimitedReport() {
        let report = RateLimitedReport(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(report.occurred(now: start) == (true, 0))
        #expect(report.occurred(now: start + .seconds(1)) == (false, 0))
        #expect(report.occurred(now: start + .seconds(2)) == (false, 0))
        #expect(report.occurred(now: start + .seconds(11)) == (true, 2))
    }

    @Test func heldBytesBudget() {
        let budget = HeldBytesBudget(limit: 100)
        var first: HeldBytesReservation? = HeldBytesReservation(budget: budget)
        let second = HeldBytesReservation(budget: budget)
        #expect(first?.grow(by: 60) == true)
        #expect(second.grow(by: 50) == false, "over the budget: nothing taken")
        #expect(budget.heldBytes == 60)
        #expect(second.grow(by: 40) == true)
        second.release()
        #expect(budget.heldBytes == 60)
        first = nil
        #expect(budget.heldBytes == 0, "a freed exchange gives its bytes back")
    }
}
