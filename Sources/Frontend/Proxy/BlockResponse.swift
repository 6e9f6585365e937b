import NIOCore
import NIOHTTP1

/// The body and head every refusal carries: `{"error":"egress_blocked","reason":"…"}` as JSON.
enum BlockResponse {
    static func body(reason: String) -> String {
        JSONValue.object([("error", .string("egress_blocked")), ("reason", .string(reason))]).serialized() + "\n"
    }

    static func parts(
        status: HTTPResponseStatus,
        reason: String,
        version: HTTPVersion,
        close: Bool,
        allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        let buffer = allocator.buffer(string: body(reason: reason))
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        if close { headers.add(name: "connection", value: "close") }
        let responseVersion = version.major == 1 && version.minor == 0 ? HTTPVersion.http1_0 : .http1_1
        return (HTTPResponseHead(version: responseVersion, status: status, headers: headers), buffer)
    }
}
