import NIOCore
import NIOEmbedded
import Testing

@testable import Frontend

/// The coalescing timer fires the deadline in force, once, never early, however often it moved.
@Suite("coalescing timer")
struct CoalescingTimerTests {
    final class Fired {
        var tags: [String] = []
    }

    private func timer(on loop: EmbeddedEventLoop, _ fired: Fired) -> CoalescingTimer<String> {
        CoalescingTimer(loop: loop) { fired.tags.append($0) }
    }

    @Test func firesOnceAtTheDeadlineAndNotBefore() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        let timer = timer(on: loop, fired)
        timer.arm("idle", in: .seconds(10))
        loop.advanceTime(by: .milliseconds(9_999))
        #expect(fired.tags.isEmpty)
        #expect(timer.isArmed)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired.tags == ["idle"])
        #expect(!timer.isArmed)
        loop.advanceTime(by: .seconds(60))
        #expect(fired.tags == ["idle"])
    }

    @Test func aLaterDeadlineWaitsOnAndFiresWithItsTag() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        let timer = timer(on: loop, fired)
        timer.arm("idle", in: .seconds(10))
        loop.advanceTime(by: .seconds(5))
        timer.arm("head", in: .seconds(10))
        loop.advanceTime(by: .seconds(6))
        #expect(fired.tags.isEmpty, "the first timer fired into a deadline that had moved")
        loop.advanceTime(by: .milliseconds(3_999))
        #expect(fired.tags.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired.tags == ["head"])
    }

    @Test func anEarlierDeadlineReplacesTheArmedTimer() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        let timer = timer(on: loop, fired)
        timer.arm("idle", in: .seconds(75))
        loop.advanceTime(by: .seconds(1))
        timer.arm("head", in: .seconds(2))
        loop.advanceTime(by: .seconds(2))
        #expect(fired.tags == ["head"])
        loop.advanceTime(by: .seconds(100))
        #expect(fired.tags == ["head"])
    }

    @Test func aDisarmedDeadlineNeverFiresAndCanBeArmedAgain() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        let timer = timer(on: loop, fired)
        timer.arm("response", in: .seconds(10))
        loop.advanceTime(by: .seconds(3))
        timer.disarm()
        loop.advanceTime(by: .seconds(20))
        #expect(fired.tags.isEmpty)
        timer.arm("response", in: .seconds(10))
        loop.advanceTime(by: .seconds(10))
        #expect(fired.tags == ["response"])
    }

    @Test func aDeadlineArmedFromItsOwnExpiryRuns() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        var timer: CoalescingTimer<String>?
        timer = CoalescingTimer(loop: loop) { tag in
            fired.tags.append(tag)
            if tag == "first" { timer?.arm("second", in: .seconds(5)) }
        }
        timer?.arm("first", in: .seconds(5))
        loop.advanceTime(by: .seconds(5))
        #expect(fired.tags == ["first"])
        loop.advanceTime(by: .seconds(5))
        #expect(fired.tags == ["first", "second"])
        timer?.stop()
    }

    @Test func aStoppedTimerNeverFiresAgain() {
        let loop = EmbeddedEventLoop()
        let fired = Fired()
        let timer = timer(on: loop, fired)
        timer.arm("idle", in: .seconds(1))
        timer.stop()
        timer.arm("idle", in: .seconds(1))
        loop.advanceTime(by: .seconds(10))
        #expect(fired.tags.isEmpty)
        #expect(!timer.isArmed)
    }
}
