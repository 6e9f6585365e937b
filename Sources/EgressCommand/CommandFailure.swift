/// A failure the user can act on, printed as `egress: <message>`.
struct CommandFailure: Error {
    let message: String
    /// 1 for every command but `egress scan`, whose errors are 2 (like grep).
    let exitStatus: Int32

    init(_ message: String, exitStatus: Int32 = 1) {
        self.message = message
        self.exitStatus = exitStatus
    }
}
