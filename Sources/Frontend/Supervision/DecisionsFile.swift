import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--decisions-file FILE`: the standing decisions, kept across restarts (README, "Standing decisions").
///
/// Read once at start (a file that is not ours, or that others may write, stops start-up with one
/// clear error); written after every change from a serial queue, never from an event loop, as a
/// whole new file (mode 0600, fsync, rename), so a crash leaves the old file or the new one.
public final class DecisionsFile: SupervisionObserver {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    struct Contents: Codable {
        var version: Int
        var decisions: [StandingDecision]
    }

    public let path: String
    private let queue = DispatchQueue(label: "egress.decisions-file")
    private let onFailure: @Sendable (String) -> Void

    /// `onFailure` is told (with a reason, never a decision's content) when a write fails.
    public init(path: String, onFailure: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.onFailure = onFailure
    }

    /// The decisions still in force at `now`; none when the file does not exist yet.
    ///
    /// Whoever can write the file, or replace it in its directory, can approve requests: it must be
    /// a regular file of the sidecar's own user that group and others cannot write, opened without
    /// following a symlink, in a directory group and others cannot write (unless it is sticky).
    public func load(now: Date = Date()) throws(LoadError) -> [StandingDecision] {
        func refuse(_ why: String) -> LoadError { LoadError(description: "--decisions-file \(path): \(why)") }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var directoryStatus = stat()
        guard stat(directory, &directoryStatus) == 0 else { throw refuse("cannot read its directory \(directory)") }
        if directoryStatus.st_mode & 0o022 != 0 && directoryStatus.st_mode & S_ISVTX == 0 {
            throw refuse("its directory \(directory) is writable by group or others; keep the file where only egress can write")
        }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return [] }
            if errno == ELOOP { throw refuse("is a symbolic link") }
            throw refuse("cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw refuse("not a regular file")
        }
        guard status.st_uid == geteuid() else { throw refuse("belongs to uid \(status.st_uid), not to egress's uid \(geteuid())") }
        guard status.st_mode & 0o022 == 0 else {
            throw refuse("writable by group or others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard status.st_size <= 4 << 20 else { throw refuse("larger than 4 MiB; not a decisions file") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        guard read(descriptor, &bytes, bytes.count) == bytes.count else { throw refuse("cannot read") }
        let contents: Contents
        do {
            contents = try Self.decoder.decode(Contents.self, from: Data(bytes))
        } catch {
            throw refuse("not a decisions file (\(Self.describe(error)))")
        }
        guard contents.version == 1 else { throw refuse("version \(contents.version); this egress reads version 1") }
        for decision in contents.decisions {
            guard !decision.id.isEmpty, decision.id.utf8.count <= 64,
                decision.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
                !decision.detectors.isEmpty, !decision.host.isEmpty, !decision.route.isEmpty, !decision.origin.isEmpty,
                decision.expiresAt.timeIntervalSince(decision.createdAt) <= StandingDecision.longest + 1,
                decision.expiresAt.timeIntervalSince(now) <= StandingDecision.longest + 60
            else {
                throw refuse("decision \(decision.id) is malformed")
            }
        }
        return contents.decisions.filter { $0.expiresAt > now }.map(\.normalised)
    }

    public func supervisionChanged(_ change: SupervisionChange) {
        guard case .standingDecisions(let decisions) = change else { return }
        queue.async { [self] in
            do throws(LoadError) {
                try write(decisions)
            } catch {
                onFailure(error.description)
            }
        }
    }

    /// Waits for the writes handed over so far (tests and shutdown).
    public func flush() {
        queue.sync {}
    }

    private func write(_ decisions: [StandingDecision]) throws(LoadError) {
        let data: Data
        do {
            data = try Self.encoder.encode(Contents(version: 1, decisions: decisions))
        } catch {
            throw LoadError(description: "cannot encode the standing decisions")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var bytes = [UInt8](data)
        bytes.append(UInt8(ascii: "\n"))
        let written = writeFully(fileDescriptor: fd, bytes)
        let synced = fsync(fd) == 0
        close(fd)
        guard written, synced else {
            unlink(temporary)
            throw failure("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw reason
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private func failure(_ what: String) -> LoadError {
        LoadError(description: "--decisions-file: \(what): \(String(cString: strerror(errno)))")
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): context.debugDescription
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "unreadable"
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
