import ArgumentParser
import Foundation
import Frontend
import NIOHTTP1

/// `egress supervise`: the operator's side of the `supervise` policy (README, "Operating the sidecar").
struct SuperviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "List, approve or deny requests held for an operator's decision.",
        subcommands: [List.self, Approve.self, Deny.self]
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

        @OptionGroup var control: ControlOptions

        func run() async throws { try await decide(id, "approve", control: control) }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a held request (the agent gets 403).")

        @Argument(help: "The held request's id (see `egress supervise list`).")
        var id: String

        @OptionGroup var control: ControlOptions

        func run() async throws { try await decide(id, "deny", control: control) }
    }

    static func decide(_ id: String, _ decision: String, control: ControlOptions) async throws {
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw CommandFailure("\(id): not a held request id (letters and digits)")
        }
        let reply = try await control.client().send(.POST, "/pending/\(id)/\(decision)")
        switch reply.status {
        case 200:
            print("\(id) \(decision == "approve" ? "approved" : "denied")")
        case 404:
            throw CommandFailure(reply.errorMessage ?? "no held request with id \(id) (unknown, or already decided)")
        default:
            throw CommandFailure(
                "unexpected answer from the control listener (\(reply.status)): \(reply.errorMessage ?? "")"
            )
        }
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

    /// A padded table, or "no held requests". Control characters from the agent's request never
    /// reach the terminal.
    static func table(_ rows: [HeldRow]) -> String {
        guard !rows.isEmpty else { return "no held requests\n" }
        let header = ["ID", "HOST", "METHOD", "PATH", "DETECTORS", "EXPIRES"]
        let cells = rows.map { row in
            [row.id, row.host, row.method, row.path, row.detectors.joined(separator: ","), "\(row.expiresIn)s"]
                .map(printable)
        }
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
