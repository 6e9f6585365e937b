// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "bottle-egress",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "egress", targets: ["EgressCommand"]),
        .executable(name: "egress-scanner", targets: ["ScannerWorker"]),
        .library(name: "EgressRoutes", targets: ["EgressRoutes"]),
        .library(name: "Frontend", targets: ["Frontend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // C libraries behind thin module maps; scripts/setup.sh installs their -dev packages.
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The DLP detector catalog, PCRE2 matching, validation and redaction. No I/O.
        .target(name: "Detectors", dependencies: ["CPCRE2"]),
        // The frontend ⇄ scanner wire protocol: versioned, length-prefixed frames. Pure Swift.
        .target(name: "IPC"),
        // The scanner process: sandbox lock-down and the serve loop, shared by the real worker
        // and the test-only fault-injecting worker.
        .target(name: "ScannerWorkerCore", dependencies: ["IPC", "Detectors", "CSeccomp"]),
        .executableTarget(name: "ScannerWorker", dependencies: ["ScannerWorkerCore"]),
        // Never shipped: a worker that crashes, hangs or misbehaves on request, for fault tests.
        .executableTarget(name: "ScannerFaultsWorker", dependencies: ["ScannerWorkerCore", "Detectors"]),
        // routes.yaml: model, parsing, rendering and request matching. Pure logic shared by the
        // sidecar and the host-side planner.
        .target(
            name: "EgressRoutes",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // The proxy: listeners, TLS interception, routing decisions applied to live requests,
        // credential injection, upstream connections and the event log.
        .target(
            name: "Frontend",
            dependencies: [
                "EgressRoutes",
                "Detectors",
                "IPC",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The host-side planner (`egress plan`): a bottle manifest's `egress:` section and the built-in
        // providers → routes.yaml, token slots and the sidecar's env file. Pure logic plus a small file writer.
        .target(
            name: "Planner",
            dependencies: ["EgressRoutes", "Detectors", .product(name: "Yams", package: "Yams")]
        ),
        // Prints throughput and latency figures; run with scripts/bench.sh (release build).
        .executableTarget(name: "EgressBenchmarks", dependencies: ["Detectors", "IPC", "Frontend"]),
        .executableTarget(
            name: "EgressCommand",
            dependencies: [
                "EgressRoutes",
                "Frontend",
                "Detectors",
                "Planner",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets (a seeded generator for generated data and fuzzing).
        .target(name: "EgressTestSupport", dependencies: ["IPC"], path: "Tests/EgressTestSupport"),
        .testTarget(
            name: "EgressRoutesTests",
            dependencies: ["EgressRoutes", "EgressTestSupport"]
        ),
        .testTarget(name: "DetectorsTests", dependencies: ["Detectors", "Frontend", "IPC", "EgressTestSupport"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "EgressRoutes", "Detectors", "EgressTestSupport"]),
        .testTarget(name: "IPCTests", dependencies: ["IPC", "EgressTestSupport"]),
        .testTarget(
            name: "ScannerWorkerTests",
            dependencies: ["ScannerWorkerCore", "IPC", "Detectors", "ScannerWorker", "ScannerFaultsWorker", "EgressTestSupport"]
        ),
        .testTarget(
            name: "FrontendTests",
            dependencies: [
                "Frontend",
                "CZlib",
                "EgressRoutes",
                "EgressTestSupport",
                "EgressCommand",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Scripts the tests run (the Selenium browser test, the topology test's upstream server,
            // the WebSocket peers, the httpx agent): not Swift, not resources; the tests find them next to their own
            // source file.
            exclude: ["Browser", "HTTP2", "Topology", "WebSocket"]
        ),
    ]
)
