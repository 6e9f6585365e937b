import CZlib
import NIOCore
import Testing

@testable import Frontend

/// Whole-body decompression: every gzip member, both deflate wrappings, and nothing partial.
@Suite("whole-body decompression")
struct InflateTests {
    /// Compresses with zlib itself, in any of the three wrappings.
    static func compress(_ text: String, _ format: Inflate.Format) -> [UInt8] {
        compress(Array(text.utf8), format)
    }

    static func compress(_ bytes: [UInt8], _ format: Inflate.Format) -> [UInt8] {
        var stream = z_stream()
        let bits: Int32 =
            switch format {
            case .gzip: 16 + MAX_WBITS
            case .zlib: MAX_WBITS
            case .raw: -MAX_WBITS
            }
        precondition(egress_deflate_init(&stream, Z_DEFAULT_COMPRESSION, bits) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: input.count + 128)
        let written = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return out.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }

    static func decode(_ bytes: [UInt8], _ codings: [String] = ["gzip"], limit: Int = 1_000) throws(BodyDecoding.Failure) -> String {
        String(buffer: try BodyDecoding.decode(ByteBuffer(bytes: bytes), codings: codings, limit: limit))
    }

    @Test func everyGzipMemberIsDecoded() throws {
        let body = Self.compress("{}", .gzip) + Self.compress(#"{"token":"ghp_x"}"#, .gzip)
        #expect(try Self.decode(body) == #"{}{"token":"ghp_x"}"#)
    }

    @Test func deflateIsAcceptedZlibWrappedAndRaw() throws {
        #expect(try Self.decode(Self.compress("zlib-wrapped", .zlib), ["deflate"]) == "zlib-wrapped")
        #expect(try Self.decode(Self.compress("raw", .raw), ["deflate"]) == "raw")
        // `Content-Encoding: gzip, deflate`: gzip applied first, so deflate comes off first.
        #expect(try Self.decode(Self.compress(Self.compress("both", .gzip), .zlib), ["gzip", "deflate"]) == "both")
    }

    @Test func aTruncatedStreamIsRefusedNotReturnedInPart() {
        let whole = Self.compress(String(repeating: "secret ", count: 50), .gzip)
        for cut in [1, 10, whole.count / 2, whole.count - 1] {
            #expect(throws: BodyDecoding.Failure.corrupt("gzip", problem: "truncated")) {
                try Self.decode(Array(whole[0..<cut]))
            }
        }
        let zlib = Self.compress("abc", .zlib)
        #expect(throws: BodyDecoding.Failure.corrupt("deflate", problem: "truncated")) {
            try Self.decode(Array(zlib.dropLast()), ["deflate"])
        }
    }

    @Test func bytesAfterTheStreamAreRefused() {
        let gzip = Self.compress("a", .gzip)
        #expect(throws: BodyDecoding.Failure.corrupt("gzip", problem: "bytes after the end of the stream")) {
            try Self.decode(gzip + Array("ghp_plain".utf8))
        }
        #expect(throws: BodyDecoding.Failure.corrupt("gzip", problem: "bytes after the end of the stream")) {
            try Self.decode(gzip + [0, 0, 0, 0])
        }
        // A second member that starts like one but is garbage is corrupt.
        #expect(throws: BodyDecoding.Failure.corrupt("gzip", problem: "corrupt data")) {
            try Self.decode(gzip + [0x1F, 0x8B, 0xFF, 0xFF])
        }
        #expect(throws: BodyDecoding.Failure.corrupt("deflate", problem: "bytes after the end of the stream")) {
            try Self.decode(Self.compress("a", .zlib) + Self.compress("b", .zlib), ["deflate"])
        }
        #expect(throws: BodyDecoding.Failure.corrupt("gzip", problem: "corrupt data")) {
            try Self.decode(Array("not gzip".utf8))
        }
    }

    @Test func aStackOfCodingsIsRefused() {
        var body = Self.compress("x", .gzip)
        for _ in 0..<3 { body = Self.compress(body, .gzip) }
        #expect(throws: BodyDecoding.Failure.tooManyCodings(4)) { try Self.decode(body, ["gzip", "gzip", "gzip", "gzip"]) }
    }

    @Test func theOutputIsBoundedWhateverTheInput() throws {
        let bomb = Self.compress(String(repeating: "0", count: 100_000), .gzip)
        #expect(bomb.count < 1_000)
        #expect(throws: BodyDecoding.Failure.tooLarge(limit: 1_000)) { try Self.decode(bomb) }
        // Many small members cannot add up past the bound either.
        let members = (0..<20).flatMap { _ in Self.compress(String(repeating: "x", count: 100), .gzip) }
        #expect(throws: BodyDecoding.Failure.tooLarge(limit: 1_000)) { try Self.decode(members) }
        #expect(try Self.decode([]) == "")
    }
}
