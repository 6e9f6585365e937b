import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Server-side TLS contexts for intercepted hosts, one per host, minted off the event loop and kept
/// in a bounded least-recently-used cache so a keep-alive agent pays for minting once per host.
public final class InterceptionContextCache: Sendable {
    private struct Entry {
        var context: NIOSSLContext
        var issued: Date
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var pending: [String: [EventLoopPromise<NIOSSLContext>]] = [:]
        var clock: UInt64 = 0
    }

    private let authority: CertificateAuthority
    private let capacity: Int
    private let threadPool: NIOThreadPool
    private let state = NIOLockedValueBox(State())

    public init(authority: CertificateAuthority, capacity: Int = 1024, threadPool: NIOThreadPool) {
        precondition(capacity > 0)
        self.authority = authority
        self.capacity = capacity
        self.threadPool = threadPool
    }

    /// The number of cached contexts (for tests and metrics).
    public var count: Int { state.withLockedValue { $0.entries.count } }

    public func context(for host: String, on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        let key = host.lowercased()
        let now = Date()
        enum Next {
            case hit(NIOSSLContext)
            case wait(EventLoopFuture<NIOSSLContext>)
            case mint(EventLoopPromise<NIOSSLContext>)
        }
        let next: Next = state.withLockedValue { state in
            state.clock &+= 1
            if var entry = state.entries[key], now.timeIntervalSince(entry.issued) < LeafCertificate.lifetime / 2 {
                entry.lastUse = state.clock
                state.entries[key] = entry
                return .hit(entry.context)
            }
            let promise = eventLoop.makePromise(of: NIOSSLContext.self)
            if state.pending[key] != nil {
                state.pending[key]!.append(promise)
                return .wait(promise.futureResult)
            }
            state.pending[key] = [promise]
            return .mint(promise)
        }
        switch next {
        case .hit(let context):
            return eventLoop.makeSucceededFuture(context)
        case .wait(let future):
            return future
        case .mint(let promise):
            let authority = self.authority
            threadPool.runIfActive(eventLoop: eventLoop) {
                try Self.makeContext(authority: authority, host: key, now: now)
            }.whenComplete { result in
                self.finishMinting(key: key, result: result, issued: now)
            }
            return promise.futureResult
        }
    }

    private func finishMinting(key: String, result: Result<NIOSSLContext, any Error>, issued: Date) {
        let waiters: [EventLoopPromise<NIOSSLContext>] = state.withLockedValue { state in
            let waiters = state.pending.removeValue(forKey: key) ?? []
            if case .success(let context) = result {
                state.clock &+= 1
                state.entries[key] = Entry(context: context, issued: issued, lastUse: state.clock)
                if state.entries.count > capacity,
                    let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
                {
                    state.entries.removeValue(forKey: oldest)
                }
            }
            return waiters
        }
        for waiter in waiters { waiter.completeWith(result) }
    }

    static func makeContext(authority: CertificateAuthority, host: String, now: Date) throws -> NIOSSLContext {
        try authority.issueLeaf(for: host, now: now).makeServerContext()
    }
}
