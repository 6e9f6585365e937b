import ArgumentParser
import Foundation
import Frontend
import NIOHTTP1

/// `egress supervise`: the operator's side of the `supervise` policy (README, "Operating the sidecar").
struct SuperviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "List, approve or deny requests held for an operator's decision.",
        subcommands: [List.self, Approve.self, Deny.self, Rules.self, Revoke.self, History.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List held requests.")

        @Flag(name: .customLong("json"), help: "One JSON object per line instead of a table.")
        var json = false

        @OptionGroup var control: ControlOptions

        func run() async throws {
            let reply = try await control.client().send(.GET, "/pending")
            guard reply.status == 200,
                let items = (try? JSONSerialization.jsonObject(with: reply.body)) as? [[String: Any]]
            else {
                throw CommandFailure(
                    "unexpected answer from the control listener (\(reply.status)): \(reply.errorMessage ?? "not a list")"
                )
            }
            let held = items.map(HeldRow.init)
            if json {
                for row in held { print(row.json.serialized()) }
            } else {
                print(HeldRow.table(held), terminator: "")
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forward a held request unchanged.")

        @Argument(help: "The held request's id (see `egress supervise list`).")
        var id: String

        @Option(
            name: .customLong("for"),
            help: "Also approve at once, for this long (90s, 10m, 2h; at most 24h), later requests to the same route and host whose findings are all of this request's detectors."
        )
        var standing: String?

        @OptionGroup var control: ControlOptions

        func run() async throws { try await decide(id, "approve", standing: standing, control: control) }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a held request (the agent gets 403).")

        @Argument(help: "The held request's id (see `egress supervise list`).")
        var id: String

        @Option(
            name: .customLong("for"),
            help: "Also refuse at once, for this long (90s, 10m, 2h; at most 24h), later requests to the same route and host whose findings are all of this request's detectors."
        )
        var standing: String?

        @OptionGroup var control: ControlOptions

        func run() async throws { try await decide(id, "deny", standing: standing, control: control) }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the standing decisions in force.")

        @Flag(name: .customLong("json"), help: "One JSON object per line instead of a table.")
        var json = false

        @OptionGroup var control: ControlOptions

        func run() async throws {
            try await printList(
                "/rules",
                json: json,
                empty: "no standing decisions",
                header: ["ID", "DECISION", "ROUTE", "HOST", "DETECTORS", "EXPIRES", "HITS", "BY"],
                control: control
            ) { item in
                [
                    item["id"] as? String ?? "", item["decision"] as? String ?? "", item["route"] as? String ?? "",
                    item["host"] as? String ?? "", (item["detectors"] as? [String] ?? []).joined(separator: ","),
                    "\(item["expires_in_s"] as? Int ?? 0)s", "\(item["hits"] as? Int ?? 0)",
                    item["created_by"] as? String ?? "",
                ]
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a standing decision now.")

        @Argument(help: "The standing decision's id (see `egress supervise rules`).")
        var id: String

        @OptionGroup var control: ControlOptions

        func run() async throws {
            try checkID(id, what: "standing decision")
            let reply = try await control.client().send(.POST, "/rules/\(id)/revoke")
            switch reply.status {
            case 200: print("\(id) revoked")
            case 404: throw CommandFailure(reply.errorMessage ?? "no standing decision with id \(id)")
            default:
                throw CommandFailure(
                    "unexpected answer from the control listener (\(reply.status)): \(reply.errorMessage ?? "")"
                )
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the recent decisions about held requests, newest first, and who made them."
        )

        @Flag(name: .customLong("json"), help: "One JSON object per line instead of a table.")
        var json = false

        @OptionGroup var control: ControlOptions

        func run() async throws {
            try await printList(
                "/history",
                json: json,
                empty: "no decisions yet",
                header: ["TIME", "STATUS", "BY", "ID", "HOST", "METHOD", "PATH", "DETECTORS"],
                control: control
            ) { item in
                let by = [item["by"] as? String, item["rule"] as? String].compactMap { $0 }.joined(separator: " ")
                return [
                    item["at"] as? String ?? "", item["status"] as? String ?? "", by, item["id"] as? String ?? "",
                    item["host"] as? String ?? "", item["method"] as? String ?? "", item["path"] as? String ?? "",
                    (item["detectors"] as? [String] ?? []).joined(separator: ","),
                ]
            }
        }
    }

    static func checkID(_ id: String, what: String) throws {
        guard !id.isEmpty, id.utf8.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw CommandFailure("\(id): not a \(what) id (letters and digits)")
        }
    }

    static func decide(_ id: String, _ decision: String, standing: String?, control: ControlOptions) async throws {
        try checkID(id, what: "held request")
        var path = "/pending/\(id)/\(decision)?by=cli"
        if let standing {
            guard let seconds = StandingDuration.seconds(parsing: standing) else {
                throw CommandFailure("--for \(standing): expected a duration from 1s to 24h, e.g. 90s, 10m or 2h")
            }
            path += "&for=\(seconds)"
        }
        let reply = try await control.client().send(.POST, path)
        switch reply.status {
        case 200:
            var line = "\(id) \(decision == "approve" ? "approved" : "denied")"
            if let rule = reply.object?["rule"] as? [String: Any], let ruleID = rule["id"] as? String {
                let seconds = rule["expires_in_s"] as? Int ?? 0
                line += "; standing decision \(ruleID) for \(rule["host"] as? String ?? "") "
                    + "(\((rule["detectors"] as? [String] ?? []).joined(separator: ","))) for \(seconds)s"
            }
            print(line)
        case 404:
            throw CommandFailure(reply.errorMessage ?? "no held request with id \(id) (unknown, or already decided)")
        default:
            throw CommandFailure(
                "the control listener refused (\(reply.status)): \(reply.errorMessage ?? "")"
            )
        }
    }

    /// A control API list (`/rules`, `/history`) as JSON lines, or a table of `row`s, or `empty`.
    static func printList(
        _ path: String,
        json: Bool,
        empty: String,
        header: [String],
        control: ControlOptions,
        row: ([String: Any]) -> [String]
    ) async throws {
        let reply = try await control.client().send(.GET, path)
        guard reply.status == 200, let items = (try? JSONSerialization.jsonObject(with: reply.body)) as? [[String: Any]]
        else {
            throw CommandFailure(
                "unexpected answer from the control listener (\(reply.status)): \(reply.errorMessage ?? "not a list")"
            )
        }
        if json {
            for item in items { print(jsonLine(item)) }
        } else if items.isEmpty {
            print(empty)
        } else {
            print(HeldRow.table(header: header, items.map(row)), terminator: "")
        }
    }

    /// One object as a compact JSON line, keys sorted (the API's own order is not kept by Foundation).
    static func jsonLine(_ item: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys, .withoutEscapingSlashes]))
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// `--control` and `--control-token-file`, shared by the `supervise` subcommands.
struct ControlOptions: ParsableArguments {
    @Option(
        name: .customLong("control"),
        help: "The control listener: unix:PATH or HOST:PORT (default: unix:<state-dir>/control.sock)."
    )
    var control: String?

    @Option(name: .customLong("control-token-file"), help: "File holding the control API token (required on TCP).")
    var controlTokenFile: String?

    @OptionGroup var state: StateDirectoryOption

    func client() throws -> ControlClient {
        let (address, token) = try controlSettings(
            control: control,
            tokenFile: controlTokenFile,
            stateDirectory: state.resolved
        )
        return ControlClient(address: address, token: token)
    }
}

/// One held request as `egress supervise list` shows it.
struct HeldRow {
    var id: String
    var host: String
    var method: String
    var path: String
    var detectors: [String]
    var labels: [String]
    var previews: [String]
    var expiresIn: Int

    init(_ object: [String: Any]) {
        id = object["id"] as? String ?? ""
        host = object["host"] as? String ?? ""
        method = object["method"] as? String ?? ""
        path = object["path"] as? String ?? ""
        detectors = object["detectors"] as? [String] ?? []
        labels = object["labels"] as? [String] ?? []
        previews = object["previews"] as? [String] ?? []
        expiresIn = object["expires_in_s"] as? Int ?? 0
    }

    var json: JSONValue {
        .object([
            ("id", .string(id)),
            ("host", .string(host)),
            ("method", .string(method)),
            ("path", .string(path)),
            ("detectors", .array(detectors.map { .string($0) })),
            ("labels", .array(labels.map { .string($0) })),
            ("previews", .array(previews.map { .string($0) })),
            ("expires_in_s", .int(expiresIn)),
        ])
    }

    /// A padded table, or "no held requests".
    static func table(_ rows: [HeldRow]) -> String {
        guard !rows.isEmpty else { return "no held requests\n" }
        let header = ["ID", "HOST", "METHOD", "PATH", "DETECTORS", "EXPIRES"]
        return table(
            header: header,
            rows.map { row in
                [row.id, row.host, row.method, row.path, row.detectors.joined(separator: ","), "\(row.expiresIn)s"]
            }
        )
    }

    /// A padded table. Control characters from the agent's request never reach the terminal.
    static func table(header: [String], _ rows: [[String]]) -> String {
        let cells = rows.map { $0.map(printable) }
        let widths = header.indices.map { column in
            ([header[column]] + cells.map { $0[column] }).map(\.count).max() ?? 0
        }
        return ([header] + cells).map { line in
            line.enumerated().map { column, text in
                column == line.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 })
        )
    }
}
