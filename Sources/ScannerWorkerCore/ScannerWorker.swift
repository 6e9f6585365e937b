import Detectors
import Glibc
import IPC

/// The scanner worker process: compile and JIT every detector, lock down, say ready, serve.
///
/// Start-up order (README, "The scanner pool"): build the ``Detectors/DetectionEngine`` (everything that needs more than
/// memory happens here), then ``Sandbox/lockDown(_:)`` (rlimits, no new privileges, seccomp), then
/// send ``IPC/WorkerReady`` on fd 3, then answer ``IPC/ScanRequest``s one at a time. If the engine
/// cannot be built or the sandbox installed, the worker exits with ``WorkerExitCode/startupFailed``
/// and never serves unsandboxed.
///
/// Exit statuses: ``WorkerExitCode/closed`` when the frontend closes the socket,
/// ``WorkerExitCode/protocolViolation`` on a frame that does not decode or is not a scan request.
/// Any death by a signal is a crash to the frontend: `SIGSYS` for a forbidden system call, but also
/// for a Swift runtime fatal error (allocation failure included), whose report on stderr is a write
/// the filter forbids; `SIGSEGV` for a memory fault; `SIGKILL` from the frontend's deadline.
public enum ScannerWorker {
    /// Bytes asked of each `read(2)`.
    static let readChunkSize = 256 * 1024

    public static func run(_ configuration: WorkerConfiguration = WorkerConfiguration()) -> Never {
        let socket = WorkerSocket()
        guard isSocket(socket.descriptor) else {
            startupFailed("fd \(socket.descriptor) is not a socket: egress-scanner is started by egress, not by hand")
        }
        let engine: DetectionEngine
        do throws(DetectorCompileError) {
            engine = try DetectionEngine(definitions: configuration.definitions)
        } catch {
            startupFailed("cannot compile the detectors: \(error)")
        }
        let ready = WorkerReady(
            detectorCount: UInt32(engine.definitions.count),
            faultInjection: configuration.faultHook != nil,
            pid: getpid()
        )
        let handler = ScanHandler(engine: engine)
        // Everything the serve loop needs, allocated before lock-down.
        let readyFrame: [UInt8]
        do throws(FrameError) {
            readyFrame = try ready.encodedFrame()
        } catch {
            startupFailed("cannot encode WorkerReady: \(error)")
        }
        var decoder = FrameDecoder(maxFrameSize: configuration.maxFrameSize)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunkSize, alignment: 16)

        do throws(SandboxError) {
            try Sandbox.lockDown(configuration.sandbox)
        } catch {
            startupFailed("cannot lock down: \(error)")
        }

        // Sandboxed from here on: raw read/write on the socket, memory, exit. Nothing else.
        guard socket.writeAll(readyFrame) else { exit(.closed) }
        while true {
            while true {
                let message: WireMessage?
                do throws(FrameError) {
                    message = try decoder.nextMessage()
                } catch {
                    exit(.protocolViolation)
                }
                guard let message else { break }
                guard case .scanRequest(let request) = message else { exit(.protocolViolation) }
                if let faultHook = configuration.faultHook, faultHook(request, socket) == .handled {
                    continue
                }
                guard socket.writeAll(handler.replyFrame(to: request, maxFrameSize: configuration.maxFrameSize)) else {
                    exit(.closed)
                }
            }
            guard let count = socket.read(into: buffer), count > 0 else { exit(.closed) }
            decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// `_exit`: no atexit handlers, no stdio flushing (which the sandbox might not allow).
    static func exit(_ code: WorkerExitCode) -> Never {
        _exit(code.rawValue)
    }

    /// Before lock-down only: says why on stderr (which a spawned worker has on /dev/null, but a
    /// person running the binary sees) and exits.
    private static func startupFailed(_ reason: String) -> Never {
        let line = Array("egress-scanner: \(reason)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(.startupFailed)
    }

    private static func isSocket(_ descriptor: Int32) -> Bool {
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK
    }
}
