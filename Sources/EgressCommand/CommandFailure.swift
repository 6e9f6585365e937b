/// A failure the user can act on, printed as `egress: <message>`.
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
