/// What the control listener answers: a status, headers and a complete body.
public struct ControlResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var headers: [(String, String)]
    public var body: String

    public init(status: Int, contentType: String, headers: [(String, String)] = [], body: String) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: ControlResponse, rhs: ControlResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> ControlResponse {
        ControlResponse(
            status: status,
            contentType: "application/json",
            headers: headers,
            body: value.serialized() + "\n"
        )
    }

    static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> ControlResponse {
        json(status, .object([("error", .string(message))]), headers: headers)
    }
}
