/// Why an upstream connection could not be used, with the status and reason the agent gets.
enum UpstreamFailure: Error, Equatable {
    case unresolvable(host: String)
    case forbiddenAddress(host: String, address: String, range: String)
    case ownAddress(target: String)
    case connectTimeout(target: String)
    case connectFailed(target: String, detail: String)
    case tlsFailed(host: String, detail: String)
    case closedEarly(target: String)
    case responseTimeout(target: String)

    var status: Int {
        switch self {
        case .forbiddenAddress, .ownAddress: 403
        case .connectTimeout, .responseTimeout: 504
        case .unresolvable, .connectFailed, .tlsFailed, .closedEarly: 502
        }
    }

    var reason: String {
        switch self {
        case .unresolvable(let host): "egress: cannot resolve upstream host: \(host)"
        case .forbiddenAddress(let host, let address, let range):
            "egress: upstream address not allowed: \(host) resolves to \(address) (\(range))"
        case .ownAddress: RequestAdmission.ownAddressReason
        case .connectTimeout(let target): "egress: upstream connect timeout: \(target)"
        case .connectFailed(let target, let detail): "egress: upstream connection failed: \(target) (\(detail))"
        case .tlsFailed(let host, let detail): "egress: upstream TLS verification failed for \(host) (\(detail))"
        case .closedEarly(let target): "egress: upstream closed the connection: \(target)"
        case .responseTimeout(let target): "egress: upstream response timeout: \(target)"
        }
    }
}
