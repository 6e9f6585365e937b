import ArgumentParser
import Detectors
import Dispatch
import EgressRoutes
import Foundation
import Frontend
import Logging
import NIOConcurrencyHelpers
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

    @Flag(
        name: .customLong("allow-private-upstreams"),
        help: "Allow upstreams on loopback, private and link-local addresses."
    )
    var allowPrivateUpstreams = false

    @Option(name: .customLong("log"), help: "Override the routes file's log level: 0 off, 1 blocks, 2 full.")
    var logOverride: String?

    @Option(
        name: .customLong("upstream-timeout"),
        help: "Seconds an upstream may take to start its response (default 600)."
    )
    var upstreamTimeout = "600"

    @Option(name: .customLong("scanners"), help: "DLP worker processes: auto (the default: the CPU cores the container's quota allows) or a number.")
    var scanners: String?

    @Option(name: .customLong("scan-timeout"), help: "Seconds a scan may take before its worker is killed (default 2).")
    var scanTimeout = "2"

    @Option(
        name: .customLong("scanner-probe-interval"),
        help: "Seconds between liveness probes of idle scanner workers; one that does not answer within --scan-timeout is replaced (default 5)."
    )
    var scannerProbeInterval = "5"

    @Option(
        name: .customLong("scanner-queue"),
        help: "Scans one scanner worker may have at once, the one it is on and those waiting behind it: 1 (one at a time) to 16 (default 4)."
    )
    var scannerQueue = "4"

    @Option(
        name: .customLong("max-scan-bytes"),
        help: "Largest decoded body DLP scans; larger ones are refused (default 33554432)."
    )
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

    @Option(
        name: .customLong("request-head-timeout"),
        help: "Seconds from a request's first byte to its complete head (default 20)."
    )
    var requestHeadTimeout = "20"

    @Option(
        name: .customLong("held-body-timeout"),
        help: "Seconds from a request head on a DLP route to the end of its body, held for the scan (default 60)."
    )
    var heldBodyTimeout = "60"

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds an agent's keep-alive connection may sit idle (default 75)."
    )
    var idleTimeout = "75"

    @Option(
        name: .customLong("websocket-idle-timeout"),
        help: "Seconds an upgraded WebSocket connection may go without a frame either way, pings included (default 600)."
    )
    var webSocketIdleTimeout = "600"

    @Option(
        name: .customLong("client-hello-timeout"),
        help: "Seconds from CONNECT's 200 to the agent's TLS ClientHello (default 10)."
    )
    var clientHelloTimeout = "10"

    @Option(
        name: .customLong("tls-handshake-timeout"),
        help: "Seconds for the agent's TLS handshake to complete (default 10)."
    )
    var tlsHandshakeTimeout = "10"

    @Option(name: .customLong("max-connections"), help: "Concurrent agent connections; more get 503 (default 1024).")
    var maxConnections = "1024"

    @Option(
        name: .customLong("max-held-bytes"),
        help: "Bytes held for DLP and supervise at once; more gets 503 (default 268435456)."
    )
    var maxHeldBytes = String(256 << 20)

    @Option(
        name: .customLong("max-held-requests"),
        help: "Requests waiting for the operator at once; more get 503 (default 64)."
    )
    var maxHeldRequests = "64"

    @Option(
        name: .customLong("notify"),
        help: "POST a message to this URL (or env:NAME, the URL in that variable, kept out of the process list) for each held request and its outcome (repeatable). Must not be reachable through the proxy."
    )
    var notifyURLs: [String] = []

    @Option(name: .customLong("notify-format"), help: "The --notify body: json (the default), slack or ntfy.")
    var notifyFormat = "json"

    @Option(
        name: .customLong("decisions-file"),
        help: "Keep standing decisions in this file (mode 0600) across restarts; without it they live in memory."
    )
    var decisionsFile: String?

    @Option(name: .customLong("history"), help: "Decisions kept for GET /history (default 200).")
    var historyLength = "200"

    @Option(
        name: .customLong("audit-log"),
        help: "Append every level-1 event to this file as a hash chain (`egress audit verify` checks it)."
    )
    var auditLog: String?

    @Option(
        name: .customLong("audit-log-max-bytes"),
        help: "Rotate the audit log when it reaches this size (default 67108864)."
    )
    var auditLogMaxBytes = String(64 << 20)

    @Option(name: .customLong("audit-log-keep"), help: "Rotated audit log files kept (default 10).")
    var auditLogKeep = "10"

    func run() async throws {
        let options = try makeOptions()
        let (controlAddress, controlToken) = try makeControl(proxyListener: options.proxy)
        let targets = try notifyTargets(routes: options.proxy.routes, listener: options.proxy)
        let format = try parsedNotifyFormat()
        let history = try Self.count(historyLength, flag: "--history", range: 1...10_000)
        // The audit log's and decisions file's own failures are events; the log exists only after them.
        // The audit log's own reports stay out of it (they would feed it).
        let lateEvents = NIOLockedValueBox<EventLog?>(nil)
        let report: @Sendable (String, [(String, JSONValue)], Bool) -> Void = { name, fields, audited in
            lateEvents.withLockedValue { $0 }?.emit(EgressEvent(name: name, fields: fields), minimum: .blocks, audited: audited)
        }
        let audit = try openAuditLog(
            onFailure: { report("egress_audit", [("status", .string("failed")), ("detail", .string($0))], false) },
            onHead: { chain in
                report(
                    "egress_audit",
                    [("status", .string("head")), ("seq", .int(chain.sequence)), ("sha256", .string(chain.lastHash))],
                    false
                )
            }
        )
        let events = EventLog(level: options.level, audit: audit)
        lateEvents.withLockedValue { $0 = events }
        var observers: [any SupervisionObserver] = []
        var standing: [StandingDecision] = []
        if let decisionsFile {
            let file = DecisionsFile(path: decisionsFile) {
                report("egress_decisions_file", [("status", .string("failed")), ("detail", .string($0))], true)
            }
            do throws(DecisionsFile.LoadError) {
                standing = try file.load()
            } catch {
                audit?.close()
                throw CommandFailure(error.description)
            }
            observers.append(file)
        }
        let notifier = targets.isEmpty ? nil : Notifier(targets: targets, settings: .init(format: format), events: events)
        if let notifier { observers.append(notifier) }
        let supervision = SupervisionQueue(standingDecisions: standing, historyCapacity: history, observers: observers)
        defer {
            audit?.close()
            for case let file as DecisionsFile in observers { file.flush() }
        }
        do {
            try await serve(
                options: options,
                control: (controlAddress, controlToken),
                events: events,
                supervision: supervision,
                notifier: notifier,
                targets: targets
            )
        } catch {
            await notifier?.shutdown()
            throw error
        }
        await notifier?.shutdown()
    }

    private func serve(
        options: (proxy: ProxyOptions, level: LogLevel),
        control: (ControlAddress, ControlToken?),
        events: EventLog,
        supervision: SupervisionQueue,
        notifier: Notifier?,
        targets: [NotifyTarget]
    ) async throws {
        let (controlAddress, controlToken) = control
        let metrics = EgressMetrics()
        let server: ProxyServer
        do {
            server = try await ProxyServer.start(
                options: options.proxy,
                events: events,
                supervision: supervision,
                metrics: metrics,
                bootFields: [
                    ("control", .string(controlAddress.description)),
                    ("notify", .array(targets.map { .string($0.display) })),
                    ("decisions_file", decisionsFile.map { .string($0) } ?? .null),
                    ("audit_log", auditLog.map { .string($0) } ?? .null),
                ]
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
            let host = ["0.0.0.0", "::", "*"].contains(bound.host) ? ProcessInfo.processInfo.hostName : bound.host
            notifier?.pageLink = "http://\(host.contains(":") ? "[\(host)]" : host):\(bound.port)/"
        }
        let reload = Self.onSignal(SIGHUP) {
            reloadRoutes(into: server, events: events, notifyTargets: targets, listener: options.proxy)
        }
        // Runs until SIGTERM or SIGINT has drained and stopped everything.
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: SidecarService(proxy: server, control: controlServer, supervision: supervision))],
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
    private func reloadRoutes(
        into server: ProxyServer,
        events: EventLog,
        notifyTargets: [NotifyTarget],
        listener: ProxyOptions
    ) {
        do {
            let (routes, tokens) = try loadPolicy()
            // A new route must not open a --notify endpoint to the agent.
            if let reason = Self.reachableByAgent(notifyTargets, routes: routes, listener: listener) {
                throw CommandFailure("\(routesPath): \(reason)")
            }
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

    /// `--notify`: each URL parsed, and none the agent could reach through the proxy.
    private func notifyTargets(routes: RoutesConfig, listener: ProxyOptions) throws -> [NotifyTarget] {
        let targets = try notifyURLs.map { given in
            var text = given
            // A webhook URL is a credential; on the command line every user could read it in /proc.
            if given.hasPrefix("env:") {
                let name = String(given.dropFirst(4))
                guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                    throw CommandFailure("--notify \(given): the environment variable \(name) is unset or empty")
                }
                text = value
            }
            let target: NotifyTarget
            do throws(NotifyTarget.ParseError) {
                target = try NotifyTarget(parsing: text)
            } catch {
                throw CommandFailure(error.description)
            }
            return target
        }
        if let reason = Self.reachableByAgent(targets, routes: routes, listener: listener) { throw CommandFailure(reason) }
        return targets
    }

    /// Why the agent could reach one of `targets` through the proxy under `routes`, if it could
    /// (at start and on every reload).
    private static func reachableByAgent(_ targets: [NotifyTarget], routes: RoutesConfig, listener: ProxyOptions) -> String? {
        targets.lazy.compactMap {
            $0.reachableByAgent(routes: routes, listenHost: listener.listenHost, listenPort: listener.listenPort)
        }.first
    }

    private func parsedNotifyFormat() throws -> NotificationFormat {
        guard let format = NotificationFormat(rawValue: notifyFormat) else {
            throw CommandFailure("--notify-format \(notifyFormat): expected json, slack or ntfy")
        }
        return format
    }

    /// `--audit-log`, opened where its chain stands; `nil` without the flag.
    private func openAuditLog(
        onFailure: @escaping @Sendable (String) -> Void,
        onHead: @escaping @Sendable (AuditChain) -> Void
    ) throws -> AuditLog? {
        let maxBytes = try Self.count(auditLogMaxBytes, flag: "--audit-log-max-bytes", range: 4096...(1 << 30))
        let keep = try Self.count(auditLogKeep, flag: "--audit-log-keep", range: 1...1000)
        guard let auditLog else { return nil }
        do throws(AuditLog.OpenError) {
            return try AuditLog(
                path: auditLog,
                rotation: .init(maxBytes: maxBytes, keep: keep),
                onFailure: onFailure,
                onHead: onHead
            )
        } catch {
            throw CommandFailure(error.description)
        }
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
                guard !certificates.isEmpty else {
                    throw CommandFailure("--upstream-ca \(path): no certificate in file")
                }
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
        let upstreamResponseTimeout = try Self.seconds(upstreamTimeout, flag: "--upstream-timeout")
        let superviseWait = try Self.seconds(superviseTimeout, flag: "--supervise-timeout")
        let (authority, _) = try loadOrCreateAuthority(stateDirectory: state.resolved)

        var options = ProxyOptions(routes: routes, tokens: tokens, authority: authority)
        options.listenHost = address.host
        options.listenPort = address.port
        options.connectTo = overrides
        options.upstreamTrustRoots = trustRoots
        options.allowPrivateUpstreams = allowPrivateUpstreams
        options.scanners = scannerOptions
        options.upstreamResponseTimeout = upstreamResponseTimeout
        options.maxScanBytes = maxScan
        options.superviseTimeout = superviseWait
        options.connectionTimeouts.requestHead = try Self.seconds(requestHeadTimeout, flag: "--request-head-timeout")
        options.connectionTimeouts.heldBody = try Self.seconds(heldBodyTimeout, flag: "--held-body-timeout")
        options.connectionTimeouts.idle = try Self.seconds(idleTimeout, flag: "--idle-timeout")
        options.connectionTimeouts.webSocketIdle = try Self.seconds(webSocketIdleTimeout, flag: "--websocket-idle-timeout")
        options.connectionTimeouts.clientHello = try Self.seconds(clientHelloTimeout, flag: "--client-hello-timeout")
        options.connectionTimeouts.tlsHandshake = try Self.seconds(tlsHandshakeTimeout, flag: "--tls-handshake-timeout")
        options.limits.maxConnections = try Self.count(maxConnections, flag: "--max-connections", range: 1...1_000_000)
        options.limits.maxHeldBytes = try Self.count(maxHeldBytes, flag: "--max-held-bytes", range: 1...(1 << 40))
        options.limits.maxHeldRequests = try Self.count(
            maxHeldRequests,
            flag: "--max-held-requests",
            range: 1...100_000
        )
        return (options, level ?? routes.log)
    }

    /// A flag's number of seconds: above 0, at most `atMost` (a day).
    private static func seconds(_ text: String, flag: String, atMost: Int = 86_400) throws -> TimeAmount {
        guard let value = Double(text), value.isFinite, value > 0, value <= Double(atMost) else {
            throw CommandFailure("\(flag) \(text): expected a number of seconds above 0 and at most \(atMost)")
        }
        return .nanoseconds(Int64(value * 1_000_000_000))
    }

    /// A flag's whole number within `range`.
    private static func count(_ text: String, flag: String, range: ClosedRange<Int>) throws -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let value = Int(text),
            range.contains(value)
        else {
            throw CommandFailure(
                "\(flag) \(text): expected a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    private func makeScannerOptions() throws -> ScannerOptions {
        let count: Int
        if let scanners, scanners != "auto" {
            guard scanners.allSatisfy(\.isNumber), let value = Int(scanners), (1...256).contains(value) else {
                throw CommandFailure(
                    "--scanners \(scanners): expected auto or a whole number from 1 to 256 (DLP cannot be turned off here; use dlp: in routes.yaml)"
                )
            }
            count = value
        } else {
            let cpuMax = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8)
            count = AutomaticScannerCount.count(coreCount: System.coreCount, cpuMax: cpuMax)
        }
        let scanDeadline = try Self.seconds(scanTimeout, flag: "--scan-timeout", atMost: 600)
        let probeInterval = try Self.seconds(scannerProbeInterval, flag: "--scanner-probe-interval", atMost: 3600)
        guard scannerQueue.allSatisfy(\.isASCII), scannerQueue.allSatisfy(\.isNumber), let queue = Int(scannerQueue),
            (1...16).contains(queue)
        else {
            throw CommandFailure("--scanner-queue \(scannerQueue): expected a whole number from 1 to 16")
        }
        let executable = scannerPath ?? Self.siblingExecutable("egress-scanner")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CommandFailure("--scanner-path \(executable): not an executable file")
        }
        return ScannerOptions(
            executable: executable,
            count: count,
            scanTimeout: scanDeadline,
            faultInjection: faultInjection,
            probeInterval: probeInterval,
            queuePerWorker: queue
        )
    }

    /// A program installed next to this one.
    static func siblingExecutable(_ name: String) -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs `handler` for each delivery of `signalNumber` (SIGHUP; SIGTERM and SIGINT belong to the
    /// service group, which drains the sidecar and lets `run` return, so the process exits 0).
    private static func onSignal(
        _ signalNumber: Int32,
        _ handler: @escaping @Sendable () -> Void
    ) -> any DispatchSourceSignal {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
