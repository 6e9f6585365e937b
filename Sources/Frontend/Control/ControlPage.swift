import Foundation

/// `GET /`: a self-contained operator page (no external assets) listing held requests with
/// Approve/Deny buttons. Rendered with the current queue, then kept fresh by a small script that
/// polls `GET /pending` every 2 seconds and builds rows with `textContent` (never HTML).
enum ControlPage {
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
        + "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

    static func render(_ pending: [SupervisionQueue.HeldRequest], now: Date) -> String {
        let rows = pending.map { row($0, now: now) }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>egress — held requests</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 2em; }
            table { border-collapse: collapse; width: 100%; }
            th, td { text-align: left; padding: 0.4em 0.6em; border-bottom: 1px solid #ddd; vertical-align: top; }
            code { font-size: 13px; word-break: break-all; }
            button { margin-right: 0.3em; }
            #empty { color: #666; }
            </style>
            </head>
            <body>
            <h1>Held requests</h1>
            <p>Requests the DLP scanner held for a decision. Previews are masked; approving forwards the request unchanged.</p>
            <table>
            <thead><tr><th>Host</th><th>Method</th><th>Path</th><th>Found</th><th>Previews</th><th>Time left</th><th></th></tr></thead>
            <tbody id="held">
            \(rows)
            </tbody>
            </table>
            <p id="empty"\(pending.isEmpty ? "" : " hidden")>No held requests.</p>
            <p id="status"></p>
            <script>
            \(script)
            </script>
            </body>
            </html>

            """
    }

    private static func row(_ held: SupervisionQueue.HeldRequest, now: Date) -> String {
        let id = escape(held.id)
        return "<tr data-id=\"\(id)\"><td>\(escape(held.host))</td><td>\(escape(held.method))</td>"
            + "<td><code>\(escape(held.path))</code></td><td>\(held.labels.map(escape).joined(separator: "<br>"))</td>"
            + "<td><code>\(held.previews.map(escape).joined(separator: "<br>"))</code></td>"
            + "<td>\(held.expiresIn(now: now)) s</td>"
            + "<td><button data-id=\"\(id)\" data-decision=\"approve\">Approve</button>"
            + "<button data-id=\"\(id)\" data-decision=\"deny\">Deny</button></td></tr>"
    }

    /// Escapes text for HTML element content and double-quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static let script = """
        "use strict";
        const body = document.getElementById("held");
        const empty = document.getElementById("empty");
        const status = document.getElementById("status");
        function cell(row, text, code) {
          const td = document.createElement("td");
          const lines = Array.isArray(text) ? text : [text];
          lines.forEach((line, i) => {
            if (i > 0) td.appendChild(document.createElement("br"));
            const node = code ? document.createElement("code") : document.createElement("span");
            node.textContent = String(line);
            td.appendChild(node);
          });
          row.appendChild(td);
        }
        function button(td, id, decision, label) {
          const b = document.createElement("button");
          b.textContent = label;
          b.dataset.id = id;
          b.dataset.decision = decision;
          td.appendChild(b);
        }
        function render(items) {
          const rows = items.map((item) => {
            const tr = document.createElement("tr");
            tr.dataset.id = item.id;
            cell(tr, item.host);
            cell(tr, item.method);
            cell(tr, item.path, true);
            cell(tr, item.labels);
            cell(tr, item.previews, true);
            cell(tr, item.expires_in_s + " s");
            const td = document.createElement("td");
            button(td, item.id, "approve", "Approve");
            button(td, item.id, "deny", "Deny");
            tr.appendChild(td);
            return tr;
          });
          body.replaceChildren(...rows);
          empty.hidden = items.length > 0;
        }
        async function refresh() {
          try {
            const response = await fetch(location.origin + "/pending", { cache: "no-store" });
            if (!response.ok) throw new Error("GET /pending: " + response.status);
            render(await response.json());
            status.textContent = "";
          } catch (error) {
            status.textContent = String(error);
          }
        }
        body.addEventListener("click", async (event) => {
          const target = event.target;
          if (!(target instanceof HTMLButtonElement)) return;
          const id = target.dataset.id, decision = target.dataset.decision;
          const response = await fetch(location.origin + "/pending/" + encodeURIComponent(id) + "/" + decision, { method: "POST" });
          const answer = await response.json().catch(() => ({}));
          status.textContent = response.ok ? id + ": " + answer.decision : id + ": " + (answer.error || response.status);
          refresh();
        });
        setInterval(refresh, 2000);
        """
}
