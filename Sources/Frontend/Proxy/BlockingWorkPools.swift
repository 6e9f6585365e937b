import NIOPosix

/// The threads for the proxy's blocking work, one pool per kind: a resolver stuck on a slow DNS
/// server must not delay the certificate for the next tunnel, and neither may delay reaping a dead
/// scanner worker, whose slot stays empty (and DLP short of a worker) until its exit is seen.
struct BlockingWorkPools: Sendable {
    /// getaddrinfo(3) for upstream connections.
    let resolver = NIOThreadPool(numberOfThreads: 2)
    /// Key generation and signing of interception certificates.
    let minting = NIOThreadPool(numberOfThreads: 1)
    /// waitpid(2) for scanner workers that exited.
    let reaper = NIOThreadPool(numberOfThreads: 1)

    private var all: [NIOThreadPool] { [resolver, minting, reaper] }

    func start() {
        for pool in all { pool.start() }
    }

    func shutdownGracefully() async throws {
        for pool in all { try await pool.shutdownGracefully() }
    }
}
