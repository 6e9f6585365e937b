import Foundation

@testable import Frontend

/// The documents an agent fetches, as their servers send them: a page, a README, API JSON of
/// several dialects (GitHub, Go-style `\u003c` escapes, Python's ensure_ascii), MCP results, a feed,
/// a source file, an `llms.txt`, an agent rules file. Each wraps a markdown body, with an attack
/// text (or none) placed between its first and second half, escaped as that format requires.
struct InboundCarrier: Sendable {
    struct Payload: Sendable {
        var text: String
        var markup: Bool
    }

    let name: String
    let wrap: @Sendable (_ title: String, _ before: String, _ payload: Payload?, _ after: String) -> String

    static let all: [InboundCarrier] = [
        InboundCarrier(name: "html") { title, before, payload, after in
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(html(title))</title></head>\n<body><main>\n"
                + paragraphsHTML(before) + payloadHTML(payload) + paragraphsHTML(after) + "</main></body></html>\n"
        },
        InboundCarrier(name: "readme") { title, before, payload, after in
            "# \(title)\n\n" + before + "\n\n" + (payload.map { $0.text + "\n\n" } ?? "") + after + "\n"
        },
        InboundCarrier(name: "github-issue") { title, before, payload, after in
            let body = before + "\n\n" + (payload.map { $0.text + "\n\n" } ?? "") + after
            return #"{"url":"https://api.github.com/repos/acme/widget/issues/482","number":482,"title":"\#(json(title))","#
                + #""user":{"login":"octo-dev","type":"User"},"state":"open","labels":[{"name":"bug"}],"#
                + #""body":"\#(json(body))","comments":3,"created_at":"2026-11-02T10:14:07Z"}"#
        },
        InboundCarrier(name: "github-comments") { _, before, payload, after in
            // Go's encoding/json escapes <, > and & as \u003c, \u003e and \u0026.
            let second = (payload.map { $0.text + "\n\n" } ?? "") + after
            return #"[{"id":1,"user":{"login":"maintainer"},"body":"\#(goJSON(before))"},"#
                + #"{"id":2,"user":{"login":"drive-by"},"body":"\#(goJSON(second))"}]"#
        },
        InboundCarrier(name: "pypi-json") { title, before, payload, after in
            // Python's json.dumps writes every non-ASCII character as \uXXXX.
            let body = before + "\n\n" + (payload.map { $0.text + "\n\n" } ?? "") + after
            return #"{"info":{"name":"\#(asciiJSON(slug(title)))","summary":"\#(asciiJSON(title))","#
                + #""description":"\#(asciiJSON(body))","description_content_type":"text/markdown","version":"2.4.1"},"#
                + #""urls":[{"filename":"pkg-2.4.1-py3-none-any.whl","packagetype":"bdist_wheel"}]}"#
        },
        InboundCarrier(name: "npm-json") { title, before, payload, after in
            let body = "# \(title)\n\n" + before + "\n\n" + (payload.map { $0.text + "\n\n" } ?? "") + after
            return #"{"_id":"\#(json(slug(title)))","name":"\#(json(slug(title)))","dist-tags":{"latest":"3.1.0"},"#
                + #""description":"\#(json(title))","readme":"\#(json(body))","license":"MIT"}"#
        },
        InboundCarrier(name: "search-json") { title, before, payload, after in
            let snippet = (payload.map { $0.text + " " } ?? "") + String(after.prefix(400))
            return #"{"query":"\#(json(title))","results":[{"title":"\#(json(title))","url":"https://docs.example/a","#
                + #""snippet":"\#(json(String(before.prefix(400))))"},{"title":"Forum thread","url":"https://forum.example/t/9","#
                + #""snippet":"\#(json(snippet))"}]}"#
        },
        InboundCarrier(name: "mcp-tools-list") { title, before, payload, after in
            let first = String(before.prefix(300))
            let second = (payload.map { $0.text + " " } ?? "") + String(after.prefix(300))
            return #"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_docs","description":"\#(json(first))","#
                + #""inputSchema":{"type":"object","properties":{"query":{"type":"string"}}}},{"name":"\#(json(slug(title)))","#
                + #""description":"\#(json(second))","inputSchema":{"type":"object","properties":{"a":{"type":"number"}}}}]}}"#
        },
        InboundCarrier(name: "mcp-tools-call") { _, before, payload, after in
            let text = before + "\n\n" + (payload.map { $0.text + "\n\n" } ?? "") + after
            return #"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"\#(json(text))"}],"isError":false}}"#
        },
        InboundCarrier(name: "stackexchange-json") { title, before, payload, after in
            // The API's bodies are HTML, inside JSON strings.
            let body = paragraphsHTML(before) + payloadHTML(payload) + paragraphsHTML(after)
            return #"{"items":[{"question_id":7712,"title":"\#(json(html(title)))","body":"\#(json(body))","#
                + #""score":12,"is_answered":true}],"has_more":false,"quota_remaining":290}"#
        },
        InboundCarrier(name: "source-file") { title, before, payload, after in
            let comment = payload.map { text in
                text.markup ? text.text : text.text.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
            }
            return "\"\"\"\(title)\n\n\(before)\n\"\"\"\n\nimport os\n\n" + (comment.map { $0 + "\n" } ?? "")
                + "def main() -> None:\n    \"\"\"\(after.prefix(600))\"\"\"\n    print(os.getcwd())\n"
        },
        InboundCarrier(name: "llms-txt") { title, before, payload, after in
            "# \(title)\n\n> \(before.prefix(200).replacingOccurrences(of: "\n", with: " "))\n\n## Docs\n\n"
                + "- [Guide](https://docs.example/guide.md): " + (payload?.text ?? "How to get started.") + "\n"
                + "- [API](https://docs.example/api.md): reference\n\n" + after + "\n"
        },
        InboundCarrier(name: "atom-feed") { title, before, payload, after in
            let content = paragraphsHTML(before) + payloadHTML(payload) + paragraphsHTML(after)
            return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
                + "<title>\(html(title))</title>\n<entry><title>Release notes</title><updated>2026-11-20T08:00:00Z</updated>\n"
                + "<content type=\"html\">\(html(content))</content></entry>\n</feed>\n"
        },
        InboundCarrier(name: "agent-rules") { title, before, payload, after in
            "# AGENTS.md — \(title)\n\n## Conventions\n\n" + before + "\n\n" + (payload.map { "- " + $0.text + "\n\n" } ?? "")
                + "## Notes\n\n" + after + "\n"
        },
    ]

    // MARK: - Escapes

    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    static func paragraphsHTML(_ markdown: String) -> String {
        markdown.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { "<p>" + html($0) + "</p>\n" }.joined()
    }

    static func payloadHTML(_ payload: Payload?) -> String {
        guard let payload else { return "" }
        return (payload.markup ? payload.text : "<p>" + html(payload.text) + "</p>") + "\n"
    }

    static func json(_ text: String) -> String { JSONValue.escaped(text) }

    static func goJSON(_ text: String) -> String {
        json(text).replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026")
    }

    static func asciiJSON(_ text: String) -> String {
        var out = ""
        for scalar in json(text).unicodeScalars {
            if scalar.value < 0x80 {
                out.unicodeScalars.append(scalar)
            } else {
                for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
            }
        }
        return out
    }

    static func slug(_ title: String) -> String {
        String(title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
    }
}
