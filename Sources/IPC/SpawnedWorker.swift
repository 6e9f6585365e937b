/// A worker process just spawned, and the parent's end of its socket.
public struct SpawnedWorker: Sendable, Hashable {
    /// The worker's process id. Reap it exactly once (``WorkerSpawner/reap(_:)`` or
    /// ``WorkerSpawner/waitForExit(_:)``); never signal it after reaping, the id may be reused.
    public let pid: Int32
    /// The parent's end of the `AF_UNIX` `SOCK_STREAM` socketpair: blocking, close-on-exec. The caller
    /// owns it and must close it (or hand it to NIO, e.g. `ClientBootstrap.withConnectedSocket`).
    public let socket: Int32
}
