import EgressRoutes
import Foundation
import NIOHTTP1

/// A route's credential with its value, resolved from the environment at start-up.
public struct Credential: Sendable {
    public let scheme: AuthScheme
    let token: String

    public init(scheme: AuthScheme, token: String) {
        self.scheme = scheme
        self.token = token
    }

    /// Replaces whatever credential the agent sent with the operator's. The agent's
    /// `Authorization` is always removed; its `x-api-key` too when the route injects one.
    func inject(into headers: inout HTTPHeaders) {
        headers.remove(name: "authorization")
        switch scheme {
        case .bearer:
            headers.add(name: "authorization", value: "Bearer \(token)")
        case .token:
            headers.add(name: "authorization", value: "token \(token)")
        case .basic:
            let encoded = Data("x-access-token:\(token)".utf8).base64EncodedString()
            headers.add(name: "authorization", value: "Basic \(encoded)")
        case .xApiKey:
            headers.remove(name: "x-api-key")
            headers.add(name: "x-api-key", value: token)
        }
    }
}

/// Token values by environment variable name, read once at start-up.
public struct TokenStore: Sendable {
    private let values: [String: String]

    public init(values: [String: String]) {
        self.values = values
    }

    /// Reads every `token_env` the routes name. A variable that is unset or empty stops start-up;
    /// the error names the variable and never a value.
    public static func resolve(
        _ config: RoutesConfig,
        environment: [String: String]
    ) throws(TokenStoreError) -> TokenStore {
        var values: [String: String] = [:]
        for route in config.routes {
            guard let auth = route.auth else { continue }
            guard let value = environment[auth.tokenEnv] else {
                throw TokenStoreError(
                    "environment variable \(auth.tokenEnv) (token_env of route \(route.host)) is not set"
                )
            }
            guard !value.isEmpty else {
                throw TokenStoreError(
                    "environment variable \(auth.tokenEnv) (token_env of route \(route.host)) is empty"
                )
            }
            values[auth.tokenEnv] = value
        }
        return TokenStore(values: values)
    }

    public func credential(for auth: AuthInjection) -> Credential? {
        values[auth.tokenEnv].map { Credential(scheme: auth.scheme, token: $0) }
    }
}

public struct TokenStoreError: Error, CustomStringConvertible, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
