import NIOHTTP2

/// When an agent's HTTP/2 connection closes, without sockets or clocks: events in, actions out
/// (docs/ARCHITECTURE.md, "HTTP/2"). Its streams have their own deadlines (each is one exchange);
/// the connection itself is closed after `--idle-timeout` with no open stream, and on a graceful
/// stop it sends `GOAWAY` at once and closes when its last stream ends.
struct HTTP2ConnectionLifecycle: Equatable {
    enum Action: Equatable {
        case armIdle
        case disarmIdle
        /// Tell the agent no stream above `lastStreamID` will be served.
        case sendGoAway(lastStreamID: HTTP2StreamID)
        /// A last `GOAWAY`, and the close once it (and so everything before it) has been written.
        case goAwayAndClose(lastStreamID: HTTP2StreamID)
        case none
    }

    private(set) var openStreams: Set<HTTP2StreamID> = []
    private var highestStreamID = HTTP2StreamID(0)
    private(set) var quiescing = false
    private(set) var closed = false

    /// A new connection has no stream yet: the idle deadline runs from the start.
    var initialAction: Action { .armIdle }

    mutating func streamOpened(_ id: HTTP2StreamID) -> Action {
        guard !closed else { return .none }
        let first = openStreams.isEmpty
        openStreams.insert(id)
        if id > highestStreamID { highestStreamID = id }
        return first ? .disarmIdle : .none
    }

    mutating func streamClosed(_ id: HTTP2StreamID) -> Action {
        guard !closed, openStreams.remove(id) != nil, openStreams.isEmpty else { return .none }
        if quiescing {
            closed = true
            return .goAwayAndClose(lastStreamID: highestStreamID)
        }
        return .armIdle
    }

    mutating func idleExpired() -> Action {
        guard !closed, openStreams.isEmpty else { return .none }
        closed = true
        return .goAwayAndClose(lastStreamID: highestStreamID)
    }

    /// The proxy is stopping: streams already open finish; new ones are refused by the `GOAWAY`.
    mutating func quiesce() -> [Action] {
        guard !closed, !quiescing else { return [] }
        quiescing = true
        if openStreams.isEmpty {
            closed = true
            return [.goAwayAndClose(lastStreamID: highestStreamID)]
        }
        return [.sendGoAway(lastStreamID: highestStreamID)]
    }
}
