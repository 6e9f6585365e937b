import Glibc

/// The least any scan in another process can cost: a scan-sized message to a child process over
/// a socketpair and a reply-sized message back, with no work on either side. What is left is the
/// kernel's copies and the wake-ups of two processes, which no scanner protocol can avoid while
/// DLP runs isolated from the proxy (the README's proxy benchmark compares it with the DLP path).
enum SocketFloor {
    struct Figure {
        /// CPU of both processes per round trip, in µs.
        var cpuMicros: Double
        var wallMicros: Double
    }

    /// `depth` messages are kept in flight, as the pool's pipelining does (`--scanner-queue`).
    static func measure(messageBytes: Int, replyBytes: Int, depth: Int, roundTrips: Int) -> Figure {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errno)") }
        let child = fork()
        guard child >= 0 else { fatalError("fork: \(errno)") }
        if child == 0 {
            close(fds[0])
            echo(fds[1], messageBytes: messageBytes, replyBytes: replyBytes)
        }
        close(fds[1])
        let socket = fds[0]
        let message = [UInt8](repeating: 0x61, count: messageBytes)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let clock = ContinuousClock()
        let cpuBefore = ownCPUSeconds()
        let start = clock.now
        var sent = 0
        var answeredBytes = 0
        while answeredBytes < roundTrips * replyBytes {
            while sent < roundTrips, sent - answeredBytes / replyBytes < depth {
                writeAll(socket, message)
                sent += 1
            }
            let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            guard count > 0 else { fatalError("the echo child closed its socket") }
            answeredBytes += count
        }
        let elapsed = clock.now - start
        let cpu = ownCPUSeconds() - cpuBefore
        close(socket)
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(child, &status, 0, &usage)
        let childCPU = seconds(usage.ru_utime) + seconds(usage.ru_stime)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Figure(cpuMicros: (cpu + childCPU) / Double(roundTrips) * 1e6, wallMicros: wall / Double(roundTrips) * 1e6)
    }

    /// The child: only read, write and _exit, which are safe after fork.
    private static func echo(_ socket: Int32, messageBytes: Int, replyBytes: Int) -> Never {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let reply = [UInt8](repeating: 0, count: replyBytes)
        var pending = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count <= 0 { _exit(0) }
            pending += count
            while pending >= messageBytes {
                pending -= messageBytes
                writeAll(socket, reply)
            }
        }
    }

    private static func writeAll(_ socket: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(socket, $0.baseAddress! + offset, bytes.count - offset) }
            if written <= 0 { _exit(1) }
            offset += written
        }
    }

}

/// This process's CPU seconds so far (user and system).
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

private func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }

/// A process's CPU seconds so far (user and system), from `/proc`.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return .nan }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 4096)
    guard fgets(&line, Int32(line.count), file) != nil else { return .nan }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    guard let close = text.lastIndex(of: ")") else { return .nan }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
