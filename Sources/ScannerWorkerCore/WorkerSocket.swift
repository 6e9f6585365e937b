import Glibc
import IPC

/// The worker's end of the socketpair, used with raw `read`/`write` only (the seccomp filter allows
/// nothing else on it).
public struct WorkerSocket: Sendable {
    public let descriptor: Int32

    public init(descriptor: Int32 = WireProtocol.workerSocketDescriptor) {
        self.descriptor = descriptor
    }

    /// Reads what is available, blocking until something is. Returns the byte count, 0 at EOF, or
    /// `nil` if the socket failed (which the worker treats like EOF: the frontend is gone).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            return nil
        }
    }

    /// Writes every byte, looping on partial writes and `EINTR`. Returns `false` if the socket failed
    /// (the frontend is gone).
    @discardableResult
    public func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }
}
