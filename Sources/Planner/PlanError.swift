import EgressRoutes

/// Why a plan could not be made or written.
///
/// `description` is one line that names what is wrong and where (a variable, a host, a provider, a file), and
/// never a token value.
public struct PlanError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable {
        case unknownProvider(name: String, known: [String])
        case providerHostConflict(host: String, first: String, second: String)
        case slotConflict(slot: String, first: String, second: String)
        case slotWithoutReference(slot: String, route: String)
        case unsetVariable(name: String, users: String)
        case emptyVariable(name: String, users: String)
        case unrepresentableValue(name: String, users: String)
        case unverifiedRendering(message: String)
        case write(path: String, reason: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .unknownProvider(let name, let known):
            return "unknown provider \(ConfigText.quoted(name)); known providers: \(known.joined(separator: ", "))"
        case .providerHostConflict(let host, let first, let second):
            return "providers \(first) and \(second) both cover the host \(host)"
        case .slotConflict(let slot, let first, let second):
            return
                "plan conflict: \(slot) maps to both \(first) and \(second); routes sharing a token slot must "
                + "reference the same host environment variable"
        case .slotWithoutReference(let slot, let route):
            return "plan conflict: \(route) injects \(slot) but names no host environment variable"
        case .unsetVariable(let name, let users):
            return "host environment variable \(name) is not set; it holds the token for \(users)"
        case .emptyVariable(let name, let users):
            return "host environment variable \(name) is empty (an empty token is never injected); it holds the "
                + "token for \(users)"
        case .unrepresentableValue(let name, let users):
            return "host environment variable \(name) contains a line break or NUL, which docker's --env-file "
                + "format cannot carry; it holds the token for \(users)"
        case .unverifiedRendering(let message):
            return "internal error: the rendered routes.yaml does not read back as planned (\(message))"
        case .write(let path, let reason):
            return "\(path): \(reason)"
        }
    }

    static func unknownProvider(_ name: String, known: [String]) -> Self {
        Self(.unknownProvider(name: name, known: known))
    }

    static func providerHostConflict(host: HostPattern, first: String, second: String) -> Self {
        Self(.providerHostConflict(host: host.description, first: first, second: second))
    }

    static func slotConflict(slot: String, first: String, second: String) -> Self {
        Self(.slotConflict(slot: slot, first: first, second: second))
    }

    static func slotWithoutReference(slot: String, route: String) -> Self {
        Self(.slotWithoutReference(slot: slot, route: route))
    }

    static func unsetVariable(_ name: String, users: String) -> Self { Self(.unsetVariable(name: name, users: users)) }

    static func emptyVariable(_ name: String, users: String) -> Self { Self(.emptyVariable(name: name, users: users)) }

    static func unrepresentableValue(_ name: String, users: String) -> Self {
        Self(.unrepresentableValue(name: name, users: users))
    }

    static func unverifiedRendering(_ message: String) -> Self { Self(.unverifiedRendering(message: message)) }

    static func write(path: String, reason: String) -> Self { Self(.write(path: path, reason: reason)) }
}
