import NIOHTTP2
import Testing

@testable import Frontend

@Suite("HTTP/2 connection lifecycle")
struct HTTP2ConnectionLifecycleTests {
    @Test func idleRunsOnlyWithoutStreams() {
        var lifecycle = HTTP2ConnectionLifecycle()
        #expect(lifecycle.initialAction == .armIdle)
        #expect(lifecycle.streamOpened(.init(1)) == .disarmIdle)
        #expect(lifecycle.streamOpened(.init(3)) == .none)
        #expect(lifecycle.idleExpired() == .none, "a connection with open streams is not idle")
        #expect(lifecycle.streamClosed(.init(1)) == .none)
        #expect(lifecycle.streamClosed(.init(3)) == .armIdle)
        #expect(lifecycle.idleExpired() == .goAwayAndClose(lastStreamID: .init(3)))
        #expect(lifecycle.streamOpened(.init(5)) == .none, "closed: nothing more")
    }

    @Test func quiescingLetsOpenStreamsFinish() {
        var lifecycle = HTTP2ConnectionLifecycle()
        _ = lifecycle.streamOpened(.init(1))
        _ = lifecycle.streamOpened(.init(3))
        #expect(lifecycle.quiesce() == [.sendGoAway(lastStreamID: .init(3))])
        #expect(lifecycle.quiesce() == [], "once")
        #expect(lifecycle.streamClosed(.init(3)) == .none)
        #expect(lifecycle.streamClosed(.init(1)) == .goAwayAndClose(lastStreamID: .init(3)))
        #expect(lifecycle.idleExpired() == .none)
    }

    @Test func quiescingAnIdleConnectionClosesIt() {
        var lifecycle = HTTP2ConnectionLifecycle()
        #expect(lifecycle.quiesce() == [.goAwayAndClose(lastStreamID: .init(0))])
    }

    @Test func anUnknownStreamClosingChangesNothing() {
        var lifecycle = HTTP2ConnectionLifecycle()
        _ = lifecycle.streamOpened(.init(1))
        #expect(lifecycle.streamClosed(.init(7)) == .none)
        #expect(lifecycle.openStreams.count == 1)
    }
}
