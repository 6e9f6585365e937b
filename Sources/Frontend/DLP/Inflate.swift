import CZlib
import NIOCore

/// Whole-body decompression for DLP, strict where HTTP clients are lenient: every member of a gzip
/// body is decoded (Go's and Python's readers decode them all, so an upstream sees them all), the
/// stream must end exactly where the body ends, and the output is bounded. A truncated stream or
/// bytes after its end are a failure, never a partial result: what DLP did not see whole it does
/// not pass.
enum Inflate {
    enum Format: Equatable {
        /// RFC 1952, one member or several back to back.
        case gzip
        /// RFC 1950 (HTTP's `deflate`).
        case zlib
        /// RFC 1951 without a wrapper (what some servers send as `deflate`).
        case raw

        fileprivate var windowBits: Int32 {
            switch self {
            case .gzip: 16 + MAX_WBITS
            case .zlib: MAX_WBITS
            case .raw: -MAX_WBITS
            }
        }
    }

    enum Failure: Error, Equatable {
        case corrupt
        case truncated
        /// Bytes after the end of the (last) stream that are not another gzip member.
        case trailingBytes
        case tooLarge
    }

    /// HTTP `deflate` is zlib-wrapped, but raw deflate is common: a valid zlib header decides.
    static func deflateFormat(of input: ByteBuffer) -> Format {
        guard let first = input.getInteger(at: input.readerIndex, as: UInt8.self),
            let second = input.getInteger(at: input.readerIndex + 1, as: UInt8.self)
        else { return .raw }
        let isZlib = first & 0x0F == 8 && first >> 4 <= 7 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
        return isZlib ? .zlib : .raw
    }

    /// The decompressed bytes of `input`, at most `limit` of them. An empty input is an empty body.
    static func decompress(_ input: ByteBuffer, format: Format, limit: Int) throws(Failure) -> ByteBuffer {
        var output = ByteBuffer()
        guard input.readableBytes > 0 else { return output }
        var stream = z_stream()
        guard egress_inflate_init(&stream, format.windowBits) == Z_OK else { throw .corrupt }
        defer { inflateEnd(&stream) }
        let chunkSize = 64 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let bytes = Array(input.readableBytesView)
        let result: Failure? = bytes.withUnsafeBufferPointer { source -> Failure? in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                guard output.readableBytes + produced <= limit else { return .tooLarge }
                output.writeBytes(chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in > 0 else { return nil }
                    // Another gzip member may follow; anything else after a stream is refused.
                    guard format == .gzip else { return .trailingBytes }
                    guard source[source.count - Int(stream.avail_in)] == 0x1F else { return .trailingBytes }
                    guard inflateReset(&stream) == Z_OK else { return .corrupt }
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress possible: the input ended inside the stream.
                    if stream.avail_in == 0 { return .truncated }
                    continue
                default:
                    return .corrupt
                }
            }
        }
        if let result { throw result }
        return output
    }
}
