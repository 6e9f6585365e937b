/// What route matching needs to know about one HTTP request (the inner request of a CONNECT tunnel, or a
/// plain-http request).
public struct RequestFacts: Sendable {
    /// The method as received; compared case-insensitively (normalised to uppercase).
    public var method: String
    /// The raw origin-form request-target, path and query, e.g. `/repos/a/b?x=1`. Not percent-decoded.
    public var target: String
    /// Header field lines as received, in order; a name may repeat.
    public var headers: [(name: String, value: String)]

    public init(method: String, target: String, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.target = target
        self.headers = headers
    }
}
