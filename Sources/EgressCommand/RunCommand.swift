import ArgumentParser
import Detectors
import Dispatch
import EgressRoutes
import Foundation
import Frontend
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the egress proxy."
    )

    @Option(name: .customLong("routes"), help: "The routes.yaml to enforce.")
    var routesPath: String

    @Option(name: .customLong("listen"), help: "HOST:PORT to listen on (a sidecar passes 0.0.0.0:8080).")
    var listen = "127.0.0.1:8080"

    @OptionGroup var state: StateDirectoryOption

    @Option(name: .customLong("upstream-ca"), help: "PEM file of extra trust anchors for upstream TLS (repeatable).")
    var upstreamCAPaths: [String] = []

    @Option(name: .customLong("connect-to"), help: "HOST:PORT:ADDR:PORT2 — dial ADDR:PORT2 for HOST:PORT (repeatable).")
    var connectTo: [String] = []

    @Flag(name: .customLong("allow-private-upstreams"), help: "Allow upstreams on loopback, private and link-local addresses.")
    var allowPrivateUpstreams = false

    @Option(name: .customLong("log"), help: "Override the routes file's log level: 0 off, 1 blocks, 2 full.")
    var logOverride: String?

    @Option(name: .customLong("upstream-timeout"), help: "Seconds an upstream may take to start its response (default 600).")
    var upstreamTimeout = "600"

    @Option(name: .customLong("scanners"), help: "DLP worker processes (default: the number of CPU cores).")
    var scanners: String?

    @Option(name: .customLong("scan-timeout"), help: "Seconds a scan may take before its worker is killed (default 2).")
    var scanTimeout = "2"

    @Option(name: .customLong("max-scan-bytes"), help: "Largest decoded body DLP scans; larger ones are refused (default 33554432).")
    var maxScanBytes = String(ScannerOptions.defaultMaxScanBytes)

    @Option(name: .customLong("scanner-path"), help: "The egress-scanner executable (default: next to egress).")
    var scannerPath: String?

    @Flag(name: .customLong("fault-injection"), help: "Accept a test-only fault-injecting scanner (fault tests only).")
    var faultInjection = false

    @Option(
        name: .customLong("control"),
        help: "The operator's control listener: unix:PATH or HOST:PORT (default: unix:<state-dir>/control.sock)."
    )
    var control: String?

    @Option(
        name: .customLong("control-token-file"),
        help: "File holding the control API token; required when --control is HOST:PORT."
    )
    var controlTokenFile: String?

    @Option(
        name: .customLong("supervise-timeout"),
        help: "Seconds a held request waits for the operator before it is denied (default 300)."
    )
    var superviseTimeout = "300"

    func run() async throws {
        let options = try makeOptions()
        let (controlAddress, controlToken) = try makeControl(proxyListener: options.proxy)
        let events = EventLog(level: options.level)
        let supervision = SupervisionQueue()
        let metrics = EgressMetrics()
        let server: ProxyServer
        do {
            server = try await ProxyServer.start(
                options: options.proxy,
                events: events,
                supervision: supervision,
                metrics: metrics,
                bootFields: [("control", .string(controlAddress.description))]
            )
        } catch {
            throw CommandFailure("cannot listen on \(listen): \(error)")
        }
        let controlServer: ControlServer
        do {
            controlServer = try await ControlServer.start(
                address: controlAddress,
                token: controlToken,
                supervision: supervision,
                metrics: metrics
            )
        } catch {
            await server.shutdown()
            throw CommandFailure("--control \(controlAddress): cannot listen: \(error)")
        }
        if case .tcp(let bound) = controlServer.address {
            server.refuseProxying(toPort: bound.port)
        }
        let reload = Self.onSignal(SIGHUP) { reloadRoutes(into: server, events: events) }
        // Runs until SIGTERM or SIGINT has drained and stopped everything.
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: SidecarService(proxy: server, control: controlServer))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                // stderr carries the JSON event stream only: the group's own logging stays silent.
                logger: Logger(label: "egress") { _ in SwiftLogNoOpLogHandler() }
            )
        )
        try await services.run()
        withExtendedLifetime(reload) {}
    }

    /// SIGHUP: re-read routes.yaml and the token variables, and put them in force only if all of it
    /// is valid; otherwise the running policy stays and `egress_reload` says why (level ≥ 1).
    private func reloadRoutes(into server: ProxyServer, events: EventLog) {
        do {
            let (routes, tokens) = try loadPolicy()
            // --log was validated at start, so it parses again here.
            let override = try parsedLogOverride()
            server.reload(routes: routes, tokens: tokens, logLevel: override ?? routes.log)
            events.emit(
                EgressEvent(
                    name: "egress_reload",
                    fields: [("status", .string("applied")), ("routes", .int(routes.routes.count))]
                ),
                minimum: .blocks
            )
        } catch {
            let reason = (error as? CommandFailure)?.message ?? "\(error)"
            events.emit(
                EgressEvent(
                    name: "egress_reload",
                    fields: [("status", .string("rejected")), ("reason", .string(reason))]
                ),
                minimum: .blocks
            )
        }
    }

    /// `--control` and `--control-token-file`: where the operator's API listens, and its token.
    private func makeControl(proxyListener: ProxyOptions) throws -> (ControlAddress, ControlToken?) {
        let (address, token) = try controlSettings(
            control: control,
            tokenFile: controlTokenFile,
            stateDirectory: state.resolved
        )
        if case .tcp(let tcp) = address {
            let wildcard = ["0.0.0.0", "::", "*"]
            if tcp.port != 0, tcp.port == proxyListener.listenPort,
                tcp.host.lowercased() == proxyListener.listenHost.lowercased() || wildcard.contains(tcp.host)
                    || wildcard.contains(proxyListener.listenHost)
            {
                throw CommandFailure("--control \(address): must not be the proxy listener (--listen \(listen))")
            }
        }
        return (address, token)
    }

    /// `--log`, when given.
    private func parsedLogOverride() throws -> LogLevel? {
        guard let logOverride else { return nil }
        guard logOverride.count == 1, let value = Int(logOverride), let parsed = LogLevel(rawValue: value) else {
            throw CommandFailure("--log \(logOverride): expected the integer 0, 1 or 2")
        }
        return parsed
    }

    /// routes.yaml and the token variables it names, read and checked together (at start and on SIGHUP).
    private func loadPolicy() throws -> (RoutesConfig, TokenStore) {
        let routes: RoutesConfig
        do {
            routes = try RoutesConfig.load(path: routesPath, knownDetectors: DetectorCatalog.knownIDs)
        } catch {
            throw CommandFailure(error.description)
        }
        do {
            return (routes, try TokenStore.resolve(routes, environment: ProcessInfo.processInfo.environment))
        } catch {
            throw CommandFailure("\(routesPath): \(error.description)")
        }
    }

    private func makeOptions() throws -> (proxy: ProxyOptions, level: LogLevel) {
        guard let address = ListenAddress(parsing: listen) else {
            throw CommandFailure("--listen \(listen): expected HOST:PORT, e.g. 127.0.0.1:8080")
        }
        let level = try parsedLogOverride()
        let (routes, tokens) = try loadPolicy()
        var overrides: [ConnectToOverride] = []
        for text in connectTo {
            do {
                overrides.append(try ConnectToOverride(parsing: text))
            } catch {
                throw CommandFailure(error.description)
            }
        }
        var trustRoots: [NIOSSLCertificate] = []
        for path in upstreamCAPaths {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw CommandFailure("--upstream-ca \(path): no certificate in file") }
                trustRoots += certificates
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("--upstream-ca \(path): cannot read a PEM certificate")
            }
        }
        let scannerOptions = try makeScannerOptions()
        guard let maxScan = Int(maxScanBytes), maxScanBytes.allSatisfy(\.isNumber), maxScan > 0,
            maxScan <= ScannerOptions.maximumMaxScanBytes
        else {
            throw CommandFailure(
                "--max-scan-bytes \(maxScanBytes): expected a whole number from 1 to \(ScannerOptions.maximumMaxScanBytes)"
            )
        }
        guard let upstreamSeconds = Double(upstreamTimeout), upstreamSeconds.isFinite, upstreamSeconds > 0,
            upstreamSeconds <= 86_400
        else {
            throw CommandFailure("--upstream-timeout \(upstreamTimeout): expected a number of seconds above 0 and at most 86400")
        }
        guard let superviseSeconds = Double(superviseTimeout), superviseSeconds.isFinite, superviseSeconds > 0,
            superviseSeconds <= 86_400
        else {
            throw CommandFailure(
                "--supervise-timeout \(superviseTimeout): expected a number of seconds above 0 and at most 86400"
            )
        }
        let (authority, _) = try loadOrCreateAuthority(stateDirectory: state.resolved)

        var options = ProxyOptions(routes: routes, tokens: tokens, authority: authority)
        options.listenHost = address.host
        options.listenPort = address.port
        options.connectTo = overrides
        options.upstreamTrustRoots = trustRoots
        options.allowPrivateUpstreams = allowPrivateUpstreams
        options.scanners = scannerOptions
        options.upstreamResponseTimeout = .nanoseconds(Int64(upstreamSeconds * 1_000_000_000))
        options.maxScanBytes = maxScan
        options.superviseTimeout = .nanoseconds(Int64(superviseSeconds * 1_000_000_000))
        return (options, level ?? routes.log)
    }

    private func makeScannerOptions() throws -> ScannerOptions {
        let count: Int
        if let scanners {
            guard scanners.allSatisfy(\.isNumber), let value = Int(scanners), (1...256).contains(value) else {
                throw CommandFailure("--scanners \(scanners): expected a whole number from 1 to 256 (DLP cannot be turned off here; use dlp: in routes.yaml)")
            }
            count = value
        } else {
            count = max(1, System.coreCount)
        }
        guard let seconds = Double(scanTimeout), seconds.isFinite, seconds > 0, seconds <= 600 else {
            throw CommandFailure("--scan-timeout \(scanTimeout): expected a number of seconds above 0 and at most 600")
        }
        let executable = scannerPath ?? Self.siblingExecutable("egress-scanner")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CommandFailure("--scanner-path \(executable): not an executable file")
        }
        return ScannerOptions(
            executable: executable,
            count: count,
            scanTimeout: .nanoseconds(Int64(seconds * 1_000_000_000)),
            faultInjection: faultInjection
        )
    }

    /// A program installed next to this one.
    static func siblingExecutable(_ name: String) -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs `handler` for each delivery of `signalNumber` (SIGHUP; SIGTERM and SIGINT belong to the
    /// service group, which drains the sidecar and lets `run` return, so the process exits 0).
    private static func onSignal(_ signalNumber: Int32, _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
