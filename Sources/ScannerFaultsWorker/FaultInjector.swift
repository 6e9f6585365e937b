import Detectors
import Glibc
import IPC
import ScannerWorkerCore

/// Misbehaves on request, for the frontend's supervision tests. Never shipped: this file exists only in
/// the test-only `ScannerFaultsWorker` executable.
///
/// A request with a segment that starts with `EGRESS-FAULT:<kind>` triggers the fault (the kind ends at
/// the first byte that is not a letter, digit or `:`). Any segment, so a request body (the last segment
/// of an outbound scan) can trigger it as well as a response body:
/// - `crash`: an invalid memory write (SIGSEGV; `raise` would be a forbidden `tgkill`).
/// - `hang`: spins forever without replying.
/// - `slow:<ms>`: busy-waits that long, then scans and replies normally.
/// - `syscall`: `open("/etc/hostname")`, which the seccomp filter answers by killing the worker (SIGSYS).
/// - `garbage`: writes bytes that are not a frame, then carries on.
/// - `lie`: a well-formed reply whose finding points past the end of its segment (a compromised
///   worker trying to make the frontend index out of bounds).
/// - `oom`: allocates and touches memory until `RLIMIT_AS` makes an allocation fail, which ends the
///   worker as it would end the real one (the Swift runtime reports the failure on stderr, a write the
///   filter forbids: SIGSYS).
/// Any other kind gets an error reply.
enum FaultInjector {
    static let marker = Array("EGRESS-FAULT:".utf8)

    /// A detector with exponential backtracking, so a route that names it shows what the real PCRE2
    /// limits do with a pathological input: a long run of `a` with no match at the end.
    static let catastrophicBacktracking = DetectorDefinition(
        id: "fault_catastrophic_backtracking",
        label: "catastrophic backtracking (fault injection)",
        direction: .outbound,
        summary: "test-only: (?:a|a)+$ backtracks exponentially",
        pattern: "(?:a|a)+$"
    )

    static func hook(_ request: ScanRequest, _ socket: WorkerSocket) -> FaultHookOutcome {
        guard let marked = request.segments.first(where: { $0.starts(with: marker) }) else { return .proceed }
        let kindBytes = marked.dropFirst(marker.count).prefix { byte in
            (0x30...0x3a).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
        }
        let kind = String(decoding: kindBytes, as: UTF8.self)
        switch kind {
        case "crash":
            crash(seed: request.id)
        case "hang":
            while true {
                _ = monotonicMilliseconds()
            }
        case "syscall":
            let descriptor = open("/etc/hostname", O_RDONLY)
            // Only reached if the filter let it through: report that loudly.
            if descriptor >= 0 { close(descriptor) }
            reply(to: request, on: socket, message: "fault injection: open was allowed (fd \(descriptor))")
            return .handled
        case "garbage":
            socket.writeAll(Array("\u{de}\u{ad}not a frame at all".utf8))
            return .handled
        case "ready":
            // "Ready" again instead of an answer: it must not disarm the scan's deadline.
            if let frame = try? WorkerReady(detectorCount: 1, faultInjection: true, pid: getpid()).encodedFrame() {
                socket.writeAll(frame)
            }
            return .handled
        case "oom":
            exhaustMemory()
        case "lie":
            let finding = WireFinding(
                detectorID: request.detectorIDs.first ?? "github_token_classic",
                segment: UInt32(request.segments.count - 1),
                start: 0,
                end: UInt64(request.segments.last?.count ?? 0) + 1_000
            )
            if let frame = try? ScanReply(id: request.id, status: .ok, findings: [finding]).encodedFrame() {
                socket.writeAll(frame)
            }
            return .handled
        default:
            if kind.hasPrefix("slow:"), let milliseconds = UInt64(kind.dropFirst("slow:".count)) {
                let deadline = monotonicMilliseconds() + milliseconds
                while monotonicMilliseconds() < deadline {}
                return .proceed
            }
            reply(to: request, on: socket, message: "fault injection: unknown fault")
            return .handled
        }
    }

    private static func reply(to request: ScanRequest, on socket: WorkerSocket, message: String) {
        if let frame = try? ScanReply(id: request.id, status: .error, message: message).encodedFrame() {
            socket.writeAll(frame)
        }
    }

    /// Writes to an unmapped address computed at run time (so the optimizer cannot see it coming).
    private static func crash(seed: UInt64) -> Never {
        let address = 0x10 + Int(truncatingIfNeeded: seed & 0)
        UnsafeMutablePointer<UInt8>(bitPattern: address)!.pointee = 1
        fatalError("unreachable: the write above faults")
    }

    /// Grows until an allocation fails; the Swift runtime then terminates the process.
    private static func exhaustMemory() -> Never {
        var hoard: [[UInt8]] = []
        while true {
            hoard.append([UInt8](repeating: 0xA5, count: 32 << 20))
        }
    }

    private static func monotonicMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
