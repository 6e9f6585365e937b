/// Exit statuses a worker uses, so the frontend can tell a clean shutdown from a failed start.
public enum WorkerExitCode: Int32, Sendable {
    /// The frontend closed the socket.
    case closed = 0
    /// Detectors did not compile or the sandbox could not be installed: never serve unsandboxed.
    case startupFailed = 70
    /// The frontend sent something that is not a valid frame.
    case protocolViolation = 71
}
