import Foundation
import Testing

@testable import Detectors

/// Real files shipped on the machine must produce no findings, in either direction. A file
/// that triggers a detector means the detector needs tightening, not an exclusion.
@Suite("Clean corpus")
struct CleanCorpusTests {
    struct CorpusSource: Sendable, CustomStringConvertible {
        let directory: String
        let extensions: Set<String>
        let byteBudget: Int
        var description: String { directory }
    }

    /// The package's own dependency checkouts (present once the package is built, as it is
    /// before its tests run), found from this file's place in the package.
    static var checkouts: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/checkouts").path
    }

    /// The toolchain's Swift interfaces, found from the `swift` on PATH (bin/swift → lib/swift).
    static var toolchainInterfaces: String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("swift")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate.resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("lib/swift").path
            }
        }
        return "/opt/swift/usr/lib/swift"
    }

    static let sources = [
        CorpusSource(
            directory: checkouts + "/swift-nio/Sources",
            extensions: ["swift"],
            byteBudget: 12 << 20
        ),
        CorpusSource(
            directory: toolchainInterfaces,
            extensions: ["swift", "swiftinterface"],
            byteBudget: 12 << 20
        ),
        CorpusSource(
            directory: "/usr/share/doc",
            extensions: ["", "txt", "md", "html", "rst", "json"],
            byteBudget: 6 << 20
        ),
    ]

    @Test("no findings in real text", arguments: sources)
    func corpus(_ source: CorpusSource) throws {
        let files = Self.files(in: source)
        // A missing corpus is a failure, never a silent skip.
        try #require(!files.isEmpty, "corpus directory \(source.directory) is missing or empty")
        let engine = try DetectionEngine()
        let outbound = DetectorCatalog.defaultIDs(for: .outbound)
        let inbound = DetectorCatalog.defaultIDs(for: .inbound)
        var scannedBytes = 0
        var problems: [String] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                continue
            }
            let bytes = [UInt8](data)
            scannedBytes += bytes.count
            for finding in try engine.scan(bytes, detectorIDs: outbound) + engine.scan(bytes, detectorIDs: inbound) {
                let context = bytes[max(0, finding.start - 40)..<min(bytes.count, finding.end + 40)]
                problems.append(
                    "\(path) [\(finding.start)..<\(finding.end)] \(finding.detectorID): \(String(decoding: context, as: UTF8.self).debugDescription)"
                )
            }
        }
        #expect(scannedBytes > 100_000, "too little corpus under \(source.directory)")
        #expect(problems.isEmpty, "\(problems.count) findings:\n\(problems.prefix(40).joined(separator: "\n"))")
    }

    /// Regular files with a wanted extension, sorted, up to the source's byte budget.
    static func files(in source: CorpusSource) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: source.directory) else {
            return []
        }
        var candidates: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let url = URL(fileURLWithPath: relative)
            guard source.extensions.contains(url.pathExtension) else {
                continue
            }
            candidates.append(source.directory + "/" + relative)
        }
        candidates.sort()
        var files: [String] = []
        var total = 0
        for path in candidates {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let size = attributes[.size] as? Int, size > 0, size < 2 << 20
            else {
                continue
            }
            if total + size > source.byteBudget {
                break
            }
            total += size
            files.append(path)
        }
        return files
    }
}
