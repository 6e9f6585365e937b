import EgressRoutes
import Foundation

/// One `--notify URL`. Its path and query often are the credential (a Slack webhook, an ntfy
/// topic), so errors and events name only ``display``: scheme, host and port.
public struct NotifyTarget: Sendable, Equatable {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public let url: String
    public let isTLS: Bool
    public let host: String
    public let port: Int

    public var display: String { "\(isTLS ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public init(parsing text: String) throws(ParseError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw ParseError(description: "--notify: expected an http:// or https:// URL with a host")
        }
        let shown = "\(scheme)://\(host)"
        guard components.user == nil, components.password == nil else {
            throw ParseError(
                description: "--notify \(shown): credentials in the URL are not supported (ntfy takes ?auth=…)"
            )
        }
        guard components.fragment == nil else {
            throw ParseError(description: "--notify \(shown): a URL with a #fragment is not a notification endpoint")
        }
        self.url = text
        self.isTLS = scheme == "https"
        self.host = host.lowercased()
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw ParseError(description: "--notify \(shown): bad port") }
    }

    /// Why the agent could reach this endpoint through the proxy, if it could: a route allowing its
    /// host (the agent could post forged messages into the operator's channel), or the proxy's own
    /// listener. `nil` when it is out of the agent's reach.
    public func reachableByAgent(routes: RoutesConfig, listenHost: String, listenPort: Int) -> String? {
        let table = RouteTable(routes)
        for tls in [true, false] {
            if let (index, route) = table.route(forHost: host, port: port, isTLS: tls) {
                return "--notify \(display): routes.yaml route \(index + 1) (host \(route.host)) lets the agent reach it; "
                    + "notifications must go where the agent cannot"
            }
        }
        let local = ["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]
        if port == listenPort, host == listenHost.lowercased() || local.contains(host) || local.contains(listenHost) {
            return "--notify \(display): is the proxy's own listener"
        }
        return nil
    }
}
