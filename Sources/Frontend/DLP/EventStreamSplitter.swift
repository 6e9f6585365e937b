import NIOCore
import NIOHTTP1

/// Finds where the units an agent acts on end in a streamed response, so inbound `block` can scan
/// whole ones before they are released and the stream keeps its timing (README, "Streaming"): the
/// events of `text/event-stream` (each ended by a blank line; lines end in CRLF, LF or CR), the
/// lines of `application/x-ndjson`. What it hands on is every complete event so far, as one buffer
/// (a read of many tiny events is one scan and one buffer, not thousands). Bounded: an event that
/// grows past `maxEventBytes` is refused.
struct EventStreamSplitter: Equatable {
    enum Kind: Equatable {
        case serverSentEvents
        case ndjson
    }

    let kind: Kind
    let maxEventBytes: Int
    /// The bytes of the event still coming.
    private var pending: [UInt8] = []
    /// How many events have ended so far (each cut; the events of a buffer are numbered from here).
    private(set) var eventsEnded = 0
    /// The bytes of the event under way, held until it ends.
    var pendingBytes: Int { pending.count }
    /// Where the search for a line end resumes in `pending`.
    private var scanned = 0
    /// No byte but line ends since the last line end (SSE: the next line end ends the event).
    private var lineIsEmpty = true

    struct TooLarge: Error, Equatable {
        let limit: Int
        /// The events the same buffer completed before the event that outgrew the limit.
        var ended: ByteBuffer? = nil
    }

    init(kind: Kind, maxEventBytes: Int) {
        self.kind = kind
        self.maxEventBytes = maxEventBytes
    }

    /// The streamed kind a response is, when it is sent without a content coding (a coded stream is
    /// held whole and decoded instead).
    static func kind(of head: HTTPResponseHead) -> Kind? {
        let codings = head.headers[canonicalForm: "content-encoding"].map { $0.lowercased() }
        guard codings.allSatisfy({ $0 == "identity" }) else { return nil }
        // One label only: with several, which one the agent's client honours is a guess.
        let types = head.headers["content-type"]
        guard types.count == 1, let type = types.first?.lowercased() else { return nil }
        switch type.split(separator: ";").first.map({ $0.trimmingASCIISpaces() }) ?? "" {
        case "text/event-stream": return .serverSentEvents
        case "application/x-ndjson", "application/jsonl", "application/jsonlines": return .ndjson
        default: return nil
        }
    }

    /// The events `buffer` completes (with those before them still held), each with its terminator,
    /// as one buffer; `nil` when no event ended.
    mutating func append(_ buffer: ByteBuffer) throws(TooLarge) -> ByteBuffer? {
        pending.append(contentsOf: buffer.readableBytesView)
        var lastCut = 0
        var index = scanned
        while index < pending.count {
            let byte = pending[index]
            let lineEnd: Int
            if byte == UInt8(ascii: "\r") {
                // Whether an LF follows decides where the line end stops: wait for the next byte.
                guard index + 1 < pending.count else { break }
                lineEnd = pending[index + 1] == UInt8(ascii: "\n") ? index + 2 : index + 1
            } else if byte == UInt8(ascii: "\n") {
                lineEnd = index + 1
            } else {
                lineIsEmpty = false
                index += 1
                continue
            }
            if kind == .ndjson || lineIsEmpty {
                lastCut = lineEnd
                eventsEnded += 1
            }
            lineIsEmpty = true
            index = lineEnd
        }
        let events = lastCut > 0 ? ByteBuffer(bytes: pending[..<lastCut]) : nil
        pending.removeFirst(lastCut)
        scanned = index - lastCut
        guard pending.count <= maxEventBytes else { throw TooLarge(limit: maxEventBytes, ended: events) }
        return events
    }

    /// What is left when the response ends: an event without its blank line, if any.
    mutating func finish() -> ByteBuffer? {
        defer {
            pending = []
            scanned = 0
            lineIsEmpty = true
        }
        if !pending.isEmpty { eventsEnded += 1 }
        return pending.isEmpty ? nil : ByteBuffer(bytes: pending)
    }
}
