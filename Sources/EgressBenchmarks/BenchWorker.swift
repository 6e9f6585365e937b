import Glibc
import IPC

/// A worker driven synchronously over its socket, as the pool would, minus the event loop.
struct BenchWorker {
    private let worker: SpawnedWorker
    var pid: Int32 { worker.pid }
    private var decoder = FrameDecoder()
    private var requestID: UInt64 = 0

    init(executable: String) throws {
        worker = try WorkerSpawner.spawn(executable: executable)
        guard case .workerReady = nextMessage() else { fatalError("no ready message from \(executable)") }
    }

    mutating func scan(_ segment: [UInt8], detectors: [String]) {
        requestID += 1
        let request = ScanRequest(
            id: requestID,
            direction: 0,
            detectorIDs: detectors,
            redact: false,
            segments: [segment]
        )
        send(try! request.encodedFrame())
        guard case .scanReply(let reply) = nextMessage(), reply.status == .ok else { fatalError("scan failed") }
    }

    func stop() {
        close(worker.socket)
        _ = try? WorkerSpawner.waitForExit(worker.pid)
    }

    private mutating func nextMessage() -> WireMessage {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if let message = try! decoder.nextMessage() { return message }
            let count = buffer.withUnsafeMutableBytes { read(worker.socket, $0.baseAddress, $0.count) }
            precondition(count > 0, "the worker closed its socket")
            buffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        }
    }

    private func send(_ frame: [UInt8]) {
        var offset = 0
        while offset < frame.count {
            let written = frame.withUnsafeBytes { write(worker.socket, $0.baseAddress! + offset, frame.count - offset) }
            precondition(written > 0, "cannot write to the worker")
            offset += written
        }
    }
}
