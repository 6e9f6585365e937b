import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a plan's two files into a directory: `routes.yaml` and `egress.env`, both mode 0600.
///
/// Call it only once everything is validated and rendered. Each file is written to a fresh temporary file in
/// the same directory (created 0600, flushed to disk) and then renamed over its final name, so a reader never
/// sees a half-written file and a failure leaves no stray temporary behind. Both temporaries are complete
/// before the first rename. The directory is created (0700) if it does not exist.
public struct PlanWriter: Sendable {
    public static let routesFileName = "routes.yaml"
    public static let envFileName = "egress.env"

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var routesPath: String { path(Self.routesFileName) }
    public var envPath: String { path(Self.envFileName) }

    /// Writes both files; returns nothing on success. Errors name the path and the system's reason.
    public func write(routesYAML: String, tokens: ResolvedTokens) throws(PlanError) {
        try makeDirectory()
        let routesTemporary = try writeTemporary(routesYAML, for: routesPath)
        let envTemporary: String
        do {
            envTemporary = try writeTemporary(tokens.envFile(), for: envPath)
        } catch {
            unlink(routesTemporary)
            throw error
        }
        for (temporary, final) in [(routesTemporary, routesPath), (envTemporary, envPath)] {
            guard rename(temporary, final) == 0 else {
                let reason = systemError()
                unlink(routesTemporary)
                unlink(envTemporary)
                throw .write(path: final, reason: "cannot replace the file: \(reason)")
            }
        }
    }

    private func path(_ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    private func makeDirectory() throws(PlanError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .write(path: directory, reason: "not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .write(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
    }

    /// `contents` in a new 0600 file next to `final`; returns its path.
    private func writeTemporary(_ contents: String, for final: String) throws(PlanError) -> String {
        let temporary = "\(final).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .write(path: final, reason: "cannot create a temporary file: \(systemError())") }
        var failure: String?
        if fchmod(fd, 0o600) != 0 {
            failure = systemError()
        }
        var bytes = Array(contents.utf8)[...]
        while failure == nil, !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { writeBytes(fd, $0) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = systemError()
            } else {
                bytes = bytes.dropFirst(written)
            }
        }
        if failure == nil, fsync(fd) != 0 {
            failure = systemError()
        }
        if close(fd) != 0, failure == nil {
            failure = systemError()
        }
        if let failure {
            unlink(temporary)
            throw .write(path: final, reason: "cannot write the file: \(failure)")
        }
        return temporary
    }
}

/// `write(2)`, named apart from `PlanWriter.write`.
private func writeBytes(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(fd, buffer.baseAddress, buffer.count)
}

private func systemError() -> String {
    String(cString: strerror(errno))
}
