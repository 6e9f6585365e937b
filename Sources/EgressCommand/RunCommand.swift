import ArgumentParser
import Dispatch
import EgressRoutes
import Foundation
import Frontend
import NIOSSL

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

    func run() async throws {
        let options = try makeOptions()
        let events = EventLog(level: options.level)
        let server: ProxyServer
        do {
            server = try await ProxyServer.start(options: options.proxy, events: events)
        } catch {
            throw CommandFailure("cannot listen on \(listen): \(error)")
        }
        let signals = Self.installSignalHandlers { await server.shutdown() }
        try? await server.waitUntilClosed()
        withExtendedLifetime(signals) {}
    }

    private func makeOptions() throws -> (proxy: ProxyOptions, level: LogLevel) {
        guard let address = ListenAddress(parsing: listen) else {
            throw CommandFailure("--listen \(listen): expected HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var level: LogLevel?
        if let logOverride {
            guard logOverride.count == 1, let value = Int(logOverride), let parsed = LogLevel(rawValue: value) else {
                throw CommandFailure("--log \(logOverride): expected the integer 0, 1 or 2")
            }
            level = parsed
        }
        let routes: RoutesConfig
        do {
            routes = try RoutesConfig.load(path: routesPath)
        } catch {
            throw CommandFailure(error.description)
        }
        let tokens: TokenStore
        do {
            tokens = try TokenStore.resolve(routes, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CommandFailure("\(routesPath): \(error.description)")
        }
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
        let (authority, _) = try loadOrCreateAuthority(stateDirectory: state.resolved)

        var options = ProxyOptions(routes: routes, tokens: tokens, authority: authority)
        options.listenHost = address.host
        options.listenPort = address.port
        options.connectTo = overrides
        options.upstreamTrustRoots = trustRoots
        options.allowPrivateUpstreams = allowPrivateUpstreams
        return (options, level ?? routes.log)
    }

    /// SIGTERM and SIGINT close the listener and stop the event loops; `run` then returns and the
    /// process exits 0.
    private static func installSignalHandlers(
        onSignal: @escaping @Sendable () async -> Void
    ) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                Task { await onSignal() }
            }
            source.resume()
            return source
        }
    }
}
