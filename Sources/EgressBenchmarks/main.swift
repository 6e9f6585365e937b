import Detectors
import Foundation
import Frontend
import IPC

// Figures, not assertions: run in release (`scripts/bench.sh`) and compare within one run.

func padded(_ label: String) -> String {
    label.count >= 56 ? label + " " : label + String(repeating: " ", count: 56 - label.count)
}

func measure(_ label: String, bytes: Int, repetitions: Int, _ body: () throws -> Void) rethrows {
    let clock = ContinuousClock()
    try body()  // warm-up
    let elapsed = try clock.measure {
        for _ in 0..<repetitions { try body() }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let megabytes = Double(bytes * repetitions) / Double(1 << 20)
    print(padded(label) + String(format: "%9.1f MB/s", megabytes / seconds))
}

let corpus = Corpus.make(megabytes: 16)
print("corpus: \(corpus.count >> 20) MiB of source, JSON and prose with a few secrets")

// 1. The detection engine alone, one thread: what one worker can do.
let engine = try DetectionEngine()
let outbound = DetectorCatalog.defaultIDs(for: .outbound)
let inbound = DetectorCatalog.defaultIDs(for: .inbound)
var findings = 0
measure("engine, \(outbound.count) outbound detectors, 16 MiB", bytes: corpus.count, repetitions: 5) {
    findings = try! engine.scan(corpus, detectorIDs: outbound).count
}
print("  (\(findings) findings per pass)")
measure("engine, \(inbound.count) inbound detectors, 16 MiB", bytes: corpus.count, repetitions: 5) {
    _ = try! engine.scan(corpus, detectorIDs: inbound)
}

// Where each catalog's time goes: each detector alone over the corpus, the costliest first.
@MainActor func printCostliest(_ ids: [String]) {
    var costs: [(id: String, seconds: Double)] = []
    for id in ids {
        let elapsed = ContinuousClock().measure { _ = try! engine.scan(corpus, detectorIDs: [id]) }
        costs.append((id, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
    for (id, seconds) in costs.sorted(by: { $0.seconds > $1.seconds }).prefix(5) {
        print(padded("  alone: \(id)") + String(format: "%9.1f MB/s", Double(corpus.count) / Double(1 << 20) / seconds))
    }
}
printCostliest(outbound)
printCostliest(inbound)

// Inbound: a 100 KB fetched document as the proxy judges it — decoded into its inbound views (JSON
// strings, HTML entities) and scanned at its leaves with the inbound catalog, in three carriers.
// Real markdown full of code, JSON and HTML: this repository's README (the script runs from the root).
let readme = (try? String(contentsOfFile: "README.md", encoding: .utf8)) ?? String(decoding: corpus.prefix(100_000), as: UTF8.self)
let prose = String(readme.prefix(100_000))
let html = prose.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
let fetched: [(String, [UInt8])] = [
    ("as text", Array(prose.utf8)),
    ("in JSON (an API answer)", Array(("{\"readme\":\"" + JSONValue.escaped(prose) + "\"}").utf8)),
    ("as HTML in JSON (Stack Exchange)", Array(("{\"items\":[{\"body\":\"<p>" + JSONValue.escaped(html) + "</p>\"}]}").utf8)),
]
for (name, document) in fetched {
    let repetitions = 20
    do {
        _ = try InboundDocument.judge(document, engine: engine)
    } catch {
        print(padded("inbound, a fetched document \(name)") + " refused: \(error)")
        continue
    }
    let elapsed = ContinuousClock().measure {
        for _ in 0..<repetitions { _ = try! InboundDocument.judge(document, engine: engine) }
    }
    let milliseconds = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000
        / Double(repetitions) * 100_000 / Double(document.count)
    let segments = try InboundDocument.segments(document)
    let decoding = ContinuousClock().measure {
        for _ in 0..<repetitions { _ = try! InboundDocument.segments(document) }
    }
    let decodingMilliseconds = (Double(decoding.components.seconds) + Double(decoding.components.attoseconds) / 1e18) * 1000
        / Double(repetitions) * 100_000 / Double(document.count)
    print(
        padded("inbound, a fetched document \(name), per 100 KB")
            + String(format: "%9.2f ms  (decoding %.2f ms; %d segments, %d KB)", milliseconds, decodingMilliseconds, segments.count, segments.reduce(0) { $0 + $1.count } / 1000)
    )
}

// 2. A real sandboxed worker over its socketpair.
let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("egress-scanner").path
var worker = try BenchWorker(executable: executable)
let chunk = Array(corpus.prefix(1 << 20))
measure("worker + IPC, 1 MiB requests, outbound catalog", bytes: chunk.count, repetitions: 50) {
    worker.scan(chunk, detectors: outbound)
}

let small = Array(corpus.prefix(1024))
let clock = ContinuousClock()
var samples: [Duration] = []
for _ in 0..<2000 {
    samples.append(clock.measure { worker.scan(small, detectors: outbound) })
}
samples.sort()
func micros(_ d: Duration) -> Double { Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12 }
print(
    padded("worker round trip, 1 KiB body")
        + String(
            format: "p50 %6.1f µs  p99 %6.1f µs",
            micros(samples[samples.count / 2]),
            micros(samples[samples.count * 99 / 100])
        )
)

// CPU of both processes per scan, against the floor of any round trip to another process (a bare
// socketpair echo child): what the worker's protocol and scan add to the isolation itself.
let scans = 20_000
let cpuBefore = ownCPUSeconds() + processCPUSeconds(worker.pid)
for _ in 0..<scans { worker.scan(small, detectors: outbound) }
let cpuPerScan = (ownCPUSeconds() + processCPUSeconds(worker.pid) - cpuBefore) / Double(scans) * 1e6
print(padded("worker round trip, 1 KiB body, CPU of both processes") + String(format: "%9.1f µs", cpuPerScan))
let scanFrameBytes = try ScanRequest(id: 1, direction: 0, detectorIDs: outbound, redact: false, segments: [small])
    .encodedFrame().count
for depth in [1, 4] {
    let floor = SocketFloor.measure(messageBytes: scanFrameBytes, replyBytes: 32, depth: depth, roundTrips: 50_000)
    print(
        padded("socketpair floor, \(scanFrameBytes) B → 32 B, \(depth) in flight")
            + String(format: "%9.1f µs CPU  %6.1f µs wall", floor.cpuMicros, floor.wallMicros)
    )
}

worker.stop()
