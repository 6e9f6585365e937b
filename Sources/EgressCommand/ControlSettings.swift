import Frontend

/// `--control` and `--control-token-file` as `egress run` and `egress supervise` both read them:
/// the address (default: the state directory's socket) and the token, which TCP requires.
func controlSettings(
    control: String?,
    tokenFile: String?,
    stateDirectory: String
) throws -> (address: ControlAddress, token: ControlToken?) {
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
