import Foundation
import Frontend

/// `--control` and `--control-token-file` as `egress run`, `egress supervise` and `egress health`
/// all read them: the address (default: the state directory's socket) and the token, which TCP
/// requires. `EGRESS_CONTROL` and `EGRESS_CONTROL_TOKEN_FILE` stand in for flags not given, so a
/// container's health check finds the listener its sidecar was started with.
func controlSettings(
    control flagControl: String?,
    tokenFile flagTokenFile: String?,
    stateDirectory: String,
    environment: [String: String] = ProcessInfo.processInfo.environment
) throws -> (address: ControlAddress, token: ControlToken?) {
    let control = flagControl ?? environment["EGRESS_CONTROL"].flatMap { $0.isEmpty ? nil : $0 }
    let tokenFile = flagTokenFile ?? environment["EGRESS_CONTROL_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    let address: ControlAddress
    if let control {
        guard let parsed = ControlAddress(parsing: control) else {
            throw CommandFailure(
                "--control \(control): expected unix:PATH or HOST:PORT, e.g. unix:/run/egress/control.sock"
            )
        }
        address = parsed
    } else {
        address = .defaultSocket(stateDirectory: stateDirectory)
    }
    var token: ControlToken?
    if let tokenFile {
        do {
            token = try ControlToken.load(path: tokenFile)
        } catch {
            throw CommandFailure(error.description)
        }
    }
    if address.isTCP, token == nil {
        throw CommandFailure("--control \(address): a TCP control listener requires --control-token-file")
    }
    return (address, token)
}
