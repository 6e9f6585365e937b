import EgressTestSupport
import NIOCore
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("event stream splitter")
struct EventStreamSplitterTests {
    static func split(_ kind: EventStreamSplitter.Kind, _ chunks: [String], max: Int = 1_000) throws -> [String] {
        var splitter = EventStreamSplitter(kind: kind, maxEventBytes: max)
        var events: [String] = []
        for chunk in chunks {
            if let complete = try splitter.append(ByteBuffer(string: chunk)) { events.append(String(buffer: complete)) }
        }
        if let rest = splitter.finish() { events.append(String(buffer: rest)) }
        return events
    }

    @Test func serverSentEventsEndAtABlankLineWhateverTheLineEnds() throws {
        // What a read completes comes as one piece; a CR at the end waits to see whether an LF follows.
        #expect(try Self.split(.serverSentEvents, ["data: a\n\ndata: b\r\n\r\nid: 3\rdata: c\r\r"]) == [
            "data: a\n\ndata: b\r\n\r\n", "id: 3\rdata: c\r\r",
        ])
        #expect(try Self.split(.serverSentEvents, ["id: 3\rdata: c\r\r", "x"]) == ["id: 3\rdata: c\r\r", "x"])
        // Lines of one event stay together; a CR at a chunk's end waits to see whether an LF follows.
        #expect(try Self.split(.serverSentEvents, ["event: x\ndata: 1\n", "data: 2\r", "\n\r", "\ndata: tail"]) == [
            "event: x\ndata: 1\ndata: 2\r\n\r\n", "data: tail",
        ])
    }

    @Test func ndjsonSplitsOnEveryLine() throws {
        #expect(try Self.split(.ndjson, ["{\"a\":1}\n{\"b\"", ":2}\r\n{\"c\":3}"]) == ["{\"a\":1}\n", "{\"b\":2}\r\n", "{\"c\":3}"])
    }

    @Test func anEventOverTheBoundIsRefused() {
        #expect(throws: EventStreamSplitter.TooLarge(limit: 8)) {
            _ = try Self.split(.serverSentEvents, ["data: 12", "345\n"], max: 8)
        }
    }

    /// However a stream is cut into reads, nothing is lost or added, and every piece handed on ends
    /// where an event ends (the stream up to it, appended at once, is handed on whole).
    @Test func chunkBoundariesDoNotChangeTheEvents() throws {
        var generator = SeededGenerator(seed: 0xE7E)
        let pieces = ["data: x", "\n", "\r\n", "\r", "id: 1", ":c", "\n\n", "\r\n\r\n"]
        for _ in 0..<2_000 {
            let stream = (0..<Int.random(in: 1...20, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let bytes = Array(stream.utf8)
            var chunks: [String] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...5, using: &generator))
                chunks.append(String(decoding: bytes[start..<end], as: UTF8.self))
                start = end
            }
            for kind in [EventStreamSplitter.Kind.serverSentEvents, .ndjson] {
                let pieces = try Self.split(kind, chunks)
                #expect(pieces.joined() == stream, "nothing is lost or added: \(stream.debugDescription)")
                // Fed a byte at a time, the splitter hands on each event as soon as it is known to
                // have ended: those are the event ends.
                let single = try Self.split(kind, bytes.map { String(decoding: [$0], as: UTF8.self) })
                let eventEnds = Set(single.indices.map { single[...$0].reduce(0) { $0 + $1.utf8.count } })
                var end = 0
                for piece in pieces.dropLast() {
                    end += piece.utf8.count
                    #expect(eventEnds.contains(end), "\(stream.debugDescription) cut at \(end)")
                }
            }
        }
    }

    @Test func onlyUncodedEventStreamsAndNDJSONAreSplit() {
        func kind(_ headers: HTTPHeaders) -> EventStreamSplitter.Kind? {
            EventStreamSplitter.kind(of: HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
        }
        #expect(kind(["content-type": "Text/Event-Stream; charset=utf-8"]) == .serverSentEvents)
        #expect(kind(["content-type": "application/x-ndjson"]) == .ndjson)
        #expect(kind(["content-type": "text/event-stream", "content-encoding": "gzip"]) == nil, "held whole and decoded instead")
        #expect(kind(["content-type": "application/json"]) == nil)
        #expect(kind([:]) == nil)
    }
}
