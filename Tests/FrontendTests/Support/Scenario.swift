import Foundation
import NIOCore

@testable import Frontend

/// A TLS upstream posing as `host` (port 443) plus a proxy routing to it, torn down by `run`.
struct Scenario {
    let pki: TestPKI
    let upstream: UpstreamServer
    let proxy: ProxyHarness
    let host: String

    /// Starts the pair, runs `body`, and shuts both down whatever `body` did.
    static func run(
        host: String = "api.test",
        routes: String,
        environment: [String: String] = [:],
        trustUpstream: Bool = true,
        allowPrivateUpstreams: Bool = true,
        plainUpstream: Bool = false,
        upstreamHTTP2: Bool = false,
        upstreamPortInRoute: Int? = nil,
        scanners: Int? = nil,
        scannerExecutable: String = siblingExecutable("egress-scanner"),
        scanTimeout: TimeAmount = .seconds(5),
        scannerProbeInterval: TimeAmount = .seconds(5),
        maxScanBytes: Int = ScannerOptions.defaultMaxScanBytes,
        superviseTimeout: TimeAmount = .seconds(300),
        upstreamResponseTimeout: TimeAmount = .seconds(600),
        connectionTimeouts: ConnectionTimeouts = ConnectionTimeouts(),
        limits: ProxyLimits = ProxyLimits(),
        upstreamReadGate: Gate? = nil,
        responder: @escaping UpstreamServer.Responder = UpstreamReply.echo,
        _ body: (Scenario) async throws -> Void
    ) async throws {
        let pki = try TestPKI()
        let upstream = try await UpstreamServer.start(
            tls: plainUpstream ? nil : try pki.serverContext(for: host, protocols: upstreamHTTP2 ? ["h2", "http/1.1"] : ["http/1.1"]),
            http2: upstreamHTTP2,
            readGate: upstreamReadGate,
            responder: responder
        )
        let proxy: ProxyHarness
        do {
            proxy = try await ProxyHarness.start(
                routes: routes,
                environment: environment,
                connectTo: [(host, upstreamPortInRoute ?? (plainUpstream ? 80 : 443), upstream.port)],
                trusting: trustUpstream ? pki : nil,
                allowPrivateUpstreams: allowPrivateUpstreams,
                scanners: scanners,
                scannerExecutable: scannerExecutable,
                scanTimeout: scanTimeout,
                scannerProbeInterval: scannerProbeInterval,
                maxScanBytes: maxScanBytes,
                upstreamResponseTimeout: upstreamResponseTimeout,
                superviseTimeout: superviseTimeout,
                connectionTimeouts: connectionTimeouts,
                limits: limits
            )
        } catch {
            await upstream.shutdown()
            throw error
        }
        let scenario = Scenario(pki: pki, upstream: upstream, proxy: proxy, host: host)
        do {
            try await body(scenario)
        } catch {
            await proxy.shutdown()
            await upstream.shutdown()
            throw error
        }
        await proxy.shutdown()
        await upstream.shutdown()
    }

    /// Parses curl's stdout as the echo responder's JSON.
    static func echoed(_ result: ProcessResult) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
    }
}

/// The `dlp:` line of a route with scanning off: until scanner workers exist, a route that needs a
/// DLP decision is refused.
let dlpOff = "    dlp: {outbound_detectors: false, inbound_detectors: false}"
