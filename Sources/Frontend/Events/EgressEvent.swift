import Foundation
import NIOHTTP1

/// One line of the event stream. Constructors below fix the required keys of each event kind.
public struct EgressEvent: Sendable, Equatable {
    public var name: String
    public var fields: [(String, JSONValue)]

    public init(name: String, fields: [(String, JSONValue)]) {
        self.name = name
        self.fields = fields
    }

    public static func == (lhs: EgressEvent, rhs: EgressEvent) -> Bool { lhs.json == rhs.json }

    public var json: JSONValue { .object([("event", .string(name))] + fields) }
}

/// The context every request-phase event carries.
public struct RequestContext: Sendable, Equatable {
    public var host: String
    public var method: String
    public var path: String

    public init(host: String, method: String, path: String) {
        self.host = host
        self.method = method
        self.path = path
    }

    var fields: [(String, JSONValue)] {
        [("host", .string(host)), ("method", .string(method)), ("path", .string(path))]
    }
}

extension EgressEvent {
    /// Bodies larger than this are cut in `egress_request` / `egress_response` events.
    public static let bodyLogLimit = 1 << 20

    public static func boot(
        level: String,
        listen: String,
        routes: Int,
        scanners: Int,
        extra: [(String, JSONValue)] = []
    ) -> EgressEvent {
        EgressEvent(
            name: "egress_boot",
            fields: [
                ("log", .string(level)),
                ("listen", .string(listen)),
                ("routes", .int(routes)),
                ("scanners", .int(scanners)),
            ] + extra
        )
    }

    public static func block(reason: String, context: RequestContext, responseStatus: Int? = nil) -> EgressEvent {
        var fields: [(String, JSONValue)] = [("reason", .string(reason))] + context.fields
        if let responseStatus { fields.append(("response_status", .int(responseStatus))) }
        return EgressEvent(name: "egress_block", fields: fields)
    }

    /// `events`: the events of a stream (numbered from 1) whose scan matched, under inbound `warn`.
    public static func warn(
        reason: String,
        context: RequestContext,
        responseStatus: Int? = nil,
        events: ClosedRange<Int>? = nil
    ) -> EgressEvent {
        var fields: [(String, JSONValue)] = [("reason", .string(reason))] + context.fields
        if let responseStatus { fields.append(("response_status", .int(responseStatus))) }
        if let events { fields.append(("events", .array([.int(events.lowerBound), .int(events.upperBound)]))) }
        return EgressEvent(name: "egress_warn", fields: fields)
    }

    public static func redact(reason: String, context: RequestContext, detectors: [String]) -> EgressEvent {
        EgressEvent(
            name: "egress_redact",
            fields: [("reason", .string(reason))] + context.fields
                + [("detectors", .array(detectors.map { .string($0) }))]
        )
    }

    /// A request held for the operator (`status` `held`), and its outcome (`approved`, `denied`,
    /// `expired`, `abandoned`) with who decided (`by`) and the standing decision applied or made (`rule`).
    public static func supervise(
        status: String,
        id: String,
        reason: String,
        context: RequestContext,
        detectors: [String],
        previews: [String],
        by: Decider? = nil,
        rule: String? = nil
    ) -> EgressEvent {
        var fields: [(String, JSONValue)] =
            [("status", .string(status)), ("id", .string(id)), ("reason", .string(reason))] + context.fields
            + [
                ("detectors", .array(detectors.map { .string($0) })),
                ("previews", .array(previews.map { .string($0) })),
            ]
        if let by { fields.append(("by", .string(by.rawValue))) }
        if let rule { fields.append(("rule", .string(rule))) }
        return EgressEvent(name: "egress_supervise", fields: fields)
    }

    /// The proxy closed an agent connection of its own accord (an idle keep-alive connection).
    public static func connectionClosed(reason: String) -> EgressEvent {
        EgressEvent(name: "egress_connection", fields: [("reason", .string(reason))])
    }

    /// The listener could not accept a connection (descriptor exhaustion); accepting pauses for a
    /// second and resumes by itself. `suppressed` counts the failures since the last report.
    public static func acceptFailed(detail: String, suppressed: Int) -> EgressEvent {
        EgressEvent(name: "egress_accept", fields: [("error", .string(detail)), ("suppressed", .int(suppressed))])
    }

    /// A socket option could not be set; the connection went on without it. Reported once.
    public static func socketOption(option: String, error: String) -> EgressEvent {
        EgressEvent(name: "egress_socket_option", fields: [("option", .string(option)), ("error", .string(error))])
    }

    public static func request(context: RequestContext, headers: HTTPHeaders, body: LoggedBody) -> EgressEvent {
        EgressEvent(
            name: "egress_request",
            fields: context.fields + [("headers", headersJSON(headers))] + body.fields
        )
    }

    /// Level 2: a WebSocket message relayed (`direction` `outbound` or `inbound`; `opcode` `text`
    /// or `binary`), as it was sent on, cut like bodies.
    public static func webSocketMessage(
        context: RequestContext,
        direction: String,
        opcode: String,
        size: Int,
        body: LoggedBody
    ) -> EgressEvent {
        EgressEvent(
            name: "egress_ws_message",
            fields: context.fields
                + [("direction", .string(direction)), ("opcode", .string(opcode)), ("size", .int(size))]
                + body.fields
        )
    }

    public static func response(host: String, status: Int, headers: HTTPHeaders, body: LoggedBody) -> EgressEvent {
        EgressEvent(
            name: "egress_response",
            fields: [("host", .string(host)), ("status", .int(status)), ("headers", headersJSON(headers))]
                + body.fields
        )
    }

    /// Header names are lowercased; repeated headers are joined with ", " as HTTP allows.
    static func headersJSON(_ headers: HTTPHeaders) -> JSONValue {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if values[key] == nil { order.append(key) }
            values[key, default: []].append(value)
        }
        return .object(order.map { ($0, .string(values[$0]!.joined(separator: ", "))) })
    }
}

/// A body as captured for the level-2 log: at most ``EgressEvent/bodyLogLimit`` bytes.
public struct LoggedBody: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var truncated = false

    public init() {}

    public mutating func append<Bytes: Collection<UInt8>>(_ chunk: Bytes) {
        let room = EgressEvent.bodyLogLimit - bytes.count
        if chunk.count > room {
            bytes.append(contentsOf: chunk.prefix(room))
            truncated = true
        } else {
            bytes.append(contentsOf: chunk)
        }
    }

    /// `body` when the bytes are valid UTF-8, else `body_base64`; plus `body_truncated` when cut.
    /// A UTF-8 sequence split by the cut is still text: the cut is moved back to a boundary.
    var fields: [(String, JSONValue)] {
        var fields: [(String, JSONValue)]
        if let text = Self.utf8Text(bytes, allowTrailingCut: truncated) {
            fields = [("body", .string(text))]
        } else {
            fields = [("body_base64", .string(Data(bytes).base64EncodedString()))]
        }
        if truncated { fields.append(("body_truncated", .bool(true))) }
        return fields
    }

    private static func utf8Text(_ bytes: [UInt8], allowTrailingCut: Bool) -> String? {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        guard allowTrailingCut else { return nil }
        // A multi-byte scalar is at most 4 bytes: try dropping up to 3 trailing bytes.
        for drop in 1...3 where drop < bytes.count {
            if let text = String(validating: bytes.dropLast(drop), as: UTF8.self) { return text }
        }
        return nil
    }
}
