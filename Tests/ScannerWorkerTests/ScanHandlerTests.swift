import Detectors
import IPC
import Testing

@testable import ScannerWorkerCore

/// The request → reply mapping, in process (no sandbox).
@Suite struct ScanHandlerTests {
    /// A fresh engine per test: engines are not thread-safe and tests run in parallel.
    private func handler() throws -> ScanHandler {
        ScanHandler(engine: try DetectionEngine())
    }

    @Test func mapsFindingsToSegments() throws {
        let reply = try handler().reply(
            to: scanRequest(
                id: 3,
                redact: true,
                ["a \(validGitHubToken)", "none", "\(validGitHubToken) \(validGitHubToken)"]
            )
        )
        #expect(reply.id == 3)
        #expect(reply.status == .ok)
        #expect(
            reply.findings == [
                WireFinding(detectorID: "github_token_classic", segment: 0, start: 2, end: 42),
                WireFinding(detectorID: "github_token_classic", segment: 2, start: 0, end: 40),
                WireFinding(detectorID: "github_token_classic", segment: 2, start: 41, end: 81),
            ]
        )
        #expect(reply.redactedSegments?.count == 3)
        #expect(reply.redactedSegments?[1] == Array("none".utf8))
    }

    @Test func noSegmentsIsAnEmptyOKReply() throws {
        #expect(
            try handler().reply(to: scanRequest(redact: true, []))
                == ScanReply(id: 1, status: .ok, redactedSegments: [])
        )
        #expect(
            try handler().reply(to: scanRequest(detectorIDs: [], [validGitHubToken])) == ScanReply(id: 1, status: .ok)
        )
    }

    @Test func aLimitHitIsLimitExceededNeverClean() throws {
        // A catastrophically backtracking pattern next to a real detector, with the standard limits.
        let backtracking = DetectorDefinition(
            id: "backtracking",
            label: "Backtracking",
            direction: .outbound,
            summary: "(a|a)+$",
            pattern: "(?:a|a)+$"
        )
        let engine = try DetectionEngine(definitions: DetectorCatalog.all + [backtracking])
        let reply = ScanHandler(engine: engine).reply(
            to: scanRequest(
                detectorIDs: ["github_token_classic", "backtracking"],
                redact: true,
                [validGitHubToken, String(repeating: "a", count: 64) + "!"]
            )
        )
        #expect(reply.status == .limitExceeded)
        #expect(reply.message == "match limit exceeded in detector backtracking")
        #expect(reply.findings.isEmpty)
        #expect(reply.redactedSegments == nil)
    }

    @Test func invalidDirectionAndUnknownDetectorsAreErrors() throws {
        let handler = try handler()
        let badDirection = handler.reply(to: scanRequest(direction: 7, [validGitHubToken]))
        #expect(badDirection == ScanReply(id: 1, status: .error, message: "invalid direction 7"))
        // Checked up front, even with nothing to scan.
        let unknown = handler.reply(to: scanRequest(detectorIDs: ["nope"], []))
        #expect(unknown == ScanReply(id: 1, status: .error, message: "unknown detector nope"))
    }

    @Test func aReplyTooLargeForTheFrameBecomesAnError() throws {
        let request = scanRequest(id: 4, redact: true, [String(repeating: "\(validGitHubToken) ", count: 100)])
        let frame = try handler().replyFrame(to: request, maxFrameSize: 1000)
        var decoder = FrameDecoder(maxFrameSize: 1000)
        decoder.append(frame)
        guard case .scanReply(let reply) = try decoder.nextMessage() else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.id == 4)
        #expect(reply.status == .error)
        #expect(reply.message.hasPrefix("reply not sent: frame length"))
        #expect(reply.findings.isEmpty)
    }

    @Test func messagesNeverCarryScannedContent() {
        #expect(ScanHandler.message(for: .limitExceeded(detectorID: "jwt")) == "match limit exceeded in detector jwt")
        #expect(
            ScanHandler.message(for: .matchFailed(detectorID: "jwt", code: -44))
                == "detector jwt failed with PCRE2 error -44"
        )
    }
}

@Suite struct SyscallAllowlistTests {
    @Test func forbidsWhatTheSpecForbids() {
        let allowed = Set(SyscallAllowlist.rules.map(\.name))
        let forbidden: Set = [
            "open", "openat", "openat2", "creat", "socket", "socketpair", "connect", "bind", "listen", "accept",
            "accept4", "sendto", "sendmsg", "execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace",
            "kill", "tkill", "tgkill", "rt_sigqueueinfo", "prctl", "seccomp", "setrlimit", "prlimit64", "ioctl",
            "mount", "unshare", "setns", "process_vm_readv", "process_vm_writev", "memfd_create", "userfaultfd",
            "bpf", "perf_event_open", "io_uring_setup", "dup", "dup2", "dup3", "pipe", "pipe2",
        ]
        #expect(allowed.isDisjoint(with: forbidden))
    }

    @Test func socketIOIsRestrictedToTheSocket() {
        for name in ["read", "write"] {
            let rules = SyscallAllowlist.rules.filter { $0.name == name }
            #expect(rules.count == 1)
            #expect(rules.first?.conditions.count == 1)
            #expect(rules.first?.conditions.first?.arg == 0)
            #expect(rules.first?.conditions.first?.datum_a == UInt64(WireProtocol.workerSocketDescriptor))
        }
    }

    @Test func newMemoryIsNeverExecutable() {
        for name in ["mmap", "mprotect"] {
            let rules = SyscallAllowlist.rules.filter { $0.name == name }
            #expect(rules.count == 1)
            #expect(rules.first?.conditions.first?.arg == 2)
            #expect(rules.first?.conditions.first?.datum_a == 4)  // PROT_EXEC
            #expect(rules.first?.conditions.first?.datum_b == 0)
        }
    }
}
