import ArgumentParser
import Detectors
import Foundation
import Frontend
import NIOCore

/// `egress scan`: the real, sandboxed scanner on a file or stdin. Exit 0 clean, 1 findings, 2 error.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a file (or stdin) with the DLP detectors: exit 0 clean, 1 findings, 2 error."
    )

    @Option(name: .customLong("direction"), help: "outbound (secrets, the default) or inbound (prompt injection).")
    var direction = "outbound"

    @Option(name: .customLong("detectors"), help: "Comma-separated detector ids (default: the direction's default set).")
    var detectors: String?

    @Flag(name: .customLong("redact"), help: "Print the redacted text instead of the findings.")
    var redact = false

    @Option(name: .customLong("scanner-path"), help: "The egress-scanner executable (default: next to egress).")
    var scannerPath: String?

    @Argument(help: "The file to scan; - or nothing for stdin.")
    var file: String?

    func run() async throws {
        let scanDirection: ScanDirection
        switch direction {
        case "outbound": scanDirection = .outbound
        case "inbound": scanDirection = .inbound
        default: throw CommandFailure("--direction \(direction): expected outbound or inbound", exitStatus: 2)
        }
        let ids: [String]
        if let detectors {
            ids = detectors.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let unknown = ids.first(where: { DetectorCatalog.definition(id: $0) == nil }) {
                throw CommandFailure("--detectors: unknown detector \(unknown)", exitStatus: 2)
            }
        } else {
            ids = DetectorCatalog.defaultIDs(for: scanDirection)
        }
        let bytes: [UInt8]
        if let file, file != "-" {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file", exitStatus: 2)
            }
            bytes = Array(data)
        } else {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard bytes.count <= ScannerOptions.maximumMaxScanBytes else {
            throw CommandFailure("\(file ?? "stdin"): larger than \(ScannerOptions.maximumMaxScanBytes) bytes", exitStatus: 2)
        }
        let result: StandaloneScan.Result
        do {
            result = try await StandaloneScan.run(
                executable: scannerPath ?? RunCommand.siblingExecutable("egress-scanner"),
                direction: scanDirection,
                detectorIDs: ids,
                redact: redact,
                bytes: bytes,
                timeout: .seconds(30)
            )
        } catch {
            throw CommandFailure("\(error)", exitStatus: 2)
        }
        if redact, let redacted = result.redacted {
            FileHandle.standardOutput.write(Data(redacted))
        } else {
            for finding in result.findings {
                let label = DetectorCatalog.definition(id: finding.detectorID)?.label ?? finding.detectorID
                let line: [String: Any] = [
                    "detector": finding.detectorID, "label": label, "start": finding.start, "end": finding.end,
                ]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }
        if !result.findings.isEmpty { throw ExitCode(1) }
    }
}
