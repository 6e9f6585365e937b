import ArgumentParser
import Frontend

/// `egress audit verify FILE` (README, "Audit log").
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check a hash-chained audit log written by --audit-log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain of FILE and its rotated files (FILE.1, FILE.2, …); report the first broken line."
        )

        @Argument(help: "The audit log, as given to --audit-log.")
        var file: String

        func run() async throws {
            let report: AuditLogFiles.Report
            do throws(AuditLogFiles.Failure) {
                report = try AuditLogFiles.verify(file)
            } catch {
                throw CommandFailure(error.description)
            }
            var line = "\(file): chain intact: \(report.records) records, seq \(report.firstSequence)–\(report.lastSequence)"
            line += " in \(report.files.count) file\(report.files.count == 1 ? "" : "s")"
            if report.firstSequence > 1 {
                line += "; it starts at seq \(report.firstSequence): older records were rotated away"
            }
            print(line)
            print("last record sha256 \(report.lastHash)")
        }
    }
}
