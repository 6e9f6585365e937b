import Foundation

/// The body and headers one `--notify` POST carries for a supervision change, in a format. Pure:
/// previews are the masked ones the operator page shows, never whole secrets; text from the
/// agent's request is escaped for the format so it cannot forge links or mentions.
public struct NotificationMessage: Sendable, Equatable {
    public var contentType: String
    public var headers: [(String, String)]
    public var body: String
    /// The held request it is about (for the failure event).
    public var requestID: String

    public static func == (lhs: NotificationMessage, rhs: NotificationMessage) -> Bool {
        lhs.contentType == rhs.contentType && lhs.body == rhs.body && lhs.requestID == rhs.requestID
            && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }

    /// `nil` for changes nobody is told about: standing-decision lists, and requests a standing
    /// decision settled (they are in the history and the event log; a message per request would
    /// drown the channel the operator asked to be quiet).
    public static func make(
        _ change: SupervisionChange,
        format: NotificationFormat,
        page: String?,
        now: Date = Date()
    ) -> NotificationMessage? {
        switch change {
        case .standingDecisions:
            return nil
        case .settled(let settled) where settled.by == .rule:
            return nil
        case .held(let held):
            return heldMessage(held, format: format, page: page, now: now)
        case .settled(let settled):
            return outcome(settled, format: format, page: page, now: now)
        }
    }

    private static func heldMessage(
        _ held: SupervisionQueue.HeldRequest,
        format: NotificationFormat,
        page: String?,
        now: Date
    ) -> NotificationMessage {
        let found = zip(held.labels, held.previews).map { "\($0) (\($1))" }.joined(separator: ", ")
        switch format {
        case .json:
            var fields: [(String, JSONValue)] = [
                ("event", .string("held")), ("at", .string(Timestamp.iso8601(now))), ("id", .string(held.id)),
                ("route", .string(held.route)), ("host", .string(held.host)), ("method", .string(held.method)),
                ("path", .string(capped(held.path, 2048))), ("detectors", .array(held.detectors.map { .string($0) })),
                ("labels", .array(held.labels.map { .string($0) })),
                ("previews", .array(held.previews.map { .string($0) })),
                ("expires_at", .string(Timestamp.iso8601(held.expiresAt))),
                ("expires_in_s", .int(held.expiresIn(now: now))),
            ]
            if let page { fields.append(("page", .string(page))) }
            return json(.object(fields), id: held.id)
        case .slack:
            var text = ":lock: *egress held a request* `\(held.id)`: `\(code(held.method, held.host, held.path))`"
                + " — \(slack(found)). Denied in \(held.expiresIn(now: now)) s unless approved"
                + " (`egress supervise approve \(held.id)`)."
            if let page { text += " <\(slack(page))|Open the operator page>" }
            return json(.object([("text", .string(text))]), id: held.id)
        case .ntfy:
            var headers = [("Title", "egress held a request"), ("Tags", "lock"), ("Priority", "high")]
            if let page { headers.append(("Click", page)) }
            let body = "\(line(held.method, held.host, held.path))\nFound: \(found)\nid \(held.id); denied in "
                + "\(held.expiresIn(now: now)) s unless approved (egress supervise approve \(held.id))"
            return NotificationMessage(contentType: "text/plain; charset=utf-8", headers: headers, body: body, requestID: held.id)
        }
    }

    private static func outcome(
        _ settled: SupervisionBook.Settlement,
        format: NotificationFormat,
        page: String?,
        now: Date
    ) -> NotificationMessage {
        let request = settled.request
        let standing = settled.rule.map { " and made standing decision \($0.id) for \($0.expiresIn(now: now)) s" } ?? ""
        let who = "by \(settled.by.rawValue)"
        switch format {
        case .json:
            var fields: [(String, JSONValue)] = [
                ("event", .string(settled.decision.rawValue)), ("at", .string(Timestamp.iso8601(now))),
                ("id", .string(request.id)), ("by", .string(settled.by.rawValue)), ("route", .string(request.route)),
                ("host", .string(request.host)), ("method", .string(request.method)), ("path", .string(capped(request.path, 2048))),
                ("detectors", .array(request.detectors.map { .string($0) })),
            ]
            if let rule = settled.rule {
                fields.append(("rule", .string(rule.id)))
                fields.append(("rule_expires_at", .string(Timestamp.iso8601(rule.expiresAt))))
            }
            return json(.object(fields), id: request.id)
        case .slack:
            let icon = settled.decision == .approved ? ":white_check_mark:" : ":no_entry:"
            let text = "\(icon) held request `\(request.id)` (`\(code(request.method, request.host, request.path))`)"
                + " was *\(settled.decision.rawValue)* \(who)\(standing)."
            return json(.object([("text", .string(text))]), id: request.id)
        case .ntfy:
            let tag = settled.decision == .approved ? "white_check_mark" : "no_entry"
            var headers = [("Title", "egress: held request \(settled.decision.rawValue)"), ("Tags", tag)]
            if let page { headers.append(("Click", page)) }
            let body = "\(line(request.method, request.host, request.path))\n\(settled.decision.rawValue) \(who)\(standing) (id \(request.id))"
            return NotificationMessage(contentType: "text/plain; charset=utf-8", headers: headers, body: body, requestID: request.id)
        }
    }

    /// Says that `count` messages were left out (more than the rate limit allows).
    static func suppressed(_ count: Int, format: NotificationFormat) -> NotificationMessage {
        let text = "egress left out \(count) notifications (more than the rate limit allows); "
            + "see the operator page or `egress supervise list` and `history`."
        switch format {
        case .json:
            return json(.object([("event", .string("suppressed")), ("count", .int(count))]), id: "")
        case .slack:
            return json(.object([("text", .string(":warning: " + text))]), id: "")
        case .ntfy:
            return NotificationMessage(
                contentType: "text/plain; charset=utf-8",
                headers: [("Title", "egress: notifications left out"), ("Tags", "warning")],
                body: text,
                requestID: ""
            )
        }
    }

    private static func json(_ value: JSONValue, id: String) -> NotificationMessage {
        NotificationMessage(contentType: "application/json", headers: [], body: value.serialized(), requestID: id)
    }

    /// The request as one short line of printable ASCII for a human's channel: anything else in
    /// the agent's method, host or path is percent-encoded (no look-alike spaces to write sentences
    /// with, no bidi tricks), and the whole is cut to 200 characters.
    static func line(_ method: String, _ host: String, _ path: String) -> String {
        capped(printable(method) + " " + printable(host) + printable(path), 200)
    }

    /// ``line(_:_:_:)`` for a Slack code span: no backtick to close it, Slack's `&<>` escaped,
    /// so the agent's text is shown as text and never as a link or a mention.
    static func code(_ method: String, _ host: String, _ path: String) -> String {
        slack(line(method, host, path).replacingOccurrences(of: "`", with: "%60"))
    }

    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x21 && scalar.value <= 0x7E && scalar != "%" {
                out.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 { out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2) }
            }
        }
        return out
    }

    static func capped(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// Slack's control characters in message text: `&`, `<`, `>` (links, mentions, channels).
    static func slack(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
