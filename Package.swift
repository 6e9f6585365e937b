// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "bottle-egress",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "egress", targets: ["EgressCommand"]),
        .library(name: "EgressRoutes", targets: ["EgressRoutes"]),
        .library(name: "Frontend", targets: ["Frontend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
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
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "EgressCommand",
            dependencies: [
                "EgressRoutes",
                "Frontend",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "EgressRoutesTests",
            dependencies: ["EgressRoutes"]
        ),
        .testTarget(
            name: "FrontendTests",
            dependencies: [
                "Frontend",
                "EgressRoutes",
                "EgressCommand",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
