import Foundation

/// `GET /`: a self-contained operator page (no external assets) listing held requests with
/// Approve/Deny buttons (once, or standing for 10 minutes), the standing decisions with Revoke, and
/// the recent decisions. Rendered with the current queue, then kept fresh by a small script that
/// polls `GET /pending`, `/rules` and `/history` every 2 seconds and builds rows with `textContent`
/// (never HTML).
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
            <h2>Standing decisions</h2>
            <p>Requests to the same route and host whose findings are all of the listed detectors are settled at once until the decision ends.</p>
            <table>
            <thead><tr><th>Decision</th><th>Route</th><th>Host</th><th>Detectors</th><th>Time left</th><th>Hits</th><th>Made by</th><th></th></tr></thead>
            <tbody id="rules"></tbody>
            </table>
            <p id="no-rules">No standing decisions.</p>
            <h2>History</h2>
            <table>
            <thead><tr><th>Time (UTC)</th><th>Status</th><th>By</th><th>Host</th><th>Method</th><th>Path</th><th>Detectors</th><th>Id</th></tr></thead>
            <tbody id="history"></tbody>
            </table>
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
            + "<td>" + buttons.map { decision, standing, label in
                "<button data-id=\"\(id)\" data-decision=\"\(decision)\"\(standing ? " data-for=\"600\"" : "")>\(label)</button>"
            }.joined() + "</td></tr>"
    }

    /// The decision buttons of a held request: the decision, whether it stands for 10 minutes, the label.
    private static let buttons: [(String, Bool, String)] = [
        ("approve", false, "Approve"), ("approve", true, "Approve for 10 min"),
        ("deny", false, "Deny"), ("deny", true, "Deny for 10 min"),
    ]

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
        const rules = document.getElementById("rules");
        const noRules = document.getElementById("no-rules");
        const history = document.getElementById("history");
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
        function button(td, id, decision, label, standing) {
          const b = document.createElement("button");
          b.textContent = label;
          b.dataset.id = id;
          b.dataset.decision = decision;
          if (standing) b.dataset.for = "600";
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
            button(td, item.id, "approve", "Approve", false);
            button(td, item.id, "approve", "Approve for 10 min", true);
            button(td, item.id, "deny", "Deny", false);
            button(td, item.id, "deny", "Deny for 10 min", true);
            tr.appendChild(td);
            return tr;
          });
          body.replaceChildren(...rows);
          empty.hidden = items.length > 0;
        }
        function renderRules(items) {
          rules.replaceChildren(...items.map((item) => {
            const tr = document.createElement("tr");
            tr.dataset.rule = item.id;
            cell(tr, item.decision);
            cell(tr, item.route, true);
            cell(tr, item.host);
            cell(tr, item.detectors, true);
            cell(tr, item.expires_in_s + " s");
            cell(tr, item.hits);
            cell(tr, item.created_by);
            const td = document.createElement("td");
            const b = document.createElement("button");
            b.textContent = "Revoke";
            b.dataset.revoke = item.id;
            td.appendChild(b);
            tr.appendChild(td);
            return tr;
          }));
          noRules.hidden = items.length > 0;
        }
        function renderHistory(items) {
          history.replaceChildren(...items.map((item) => {
            const tr = document.createElement("tr");
            tr.dataset.id = item.id;
            tr.dataset.status = item.status;
            cell(tr, item.at.replace("T", " ").replace("Z", ""));
            cell(tr, item.status);
            cell(tr, item.by === null ? "" : (item.rule ? item.by + " " + item.rule : item.by));
            cell(tr, item.host);
            cell(tr, item.method);
            cell(tr, item.path, true);
            cell(tr, item.detectors, true);
            cell(tr, item.id, true);
            return tr;
          }));
        }
        async function load(path) {
          const response = await fetch(location.origin + path, { cache: "no-store" });
          if (!response.ok) throw new Error("GET " + path + ": " + response.status);
          return response.json();
        }
        async function refresh() {
          try {
            const [pending, standing, recent] = await Promise.all([load("/pending"), load("/rules"), load("/history")]);
            render(pending);
            renderRules(standing);
            renderHistory(recent);
            if (!status.dataset.sticky) status.textContent = "";
          } catch (error) {
            status.textContent = String(error);
          }
        }
        async function post(path, label) {
          const response = await fetch(location.origin + path, { method: "POST" });
          const answer = await response.json().catch(() => ({}));
          status.textContent = label + ": " + (response.ok ? (answer.decision || "revoked") : (answer.error || response.status));
          status.dataset.sticky = "1";
          setTimeout(() => { delete status.dataset.sticky; }, 5000);
          refresh();
        }
        body.addEventListener("click", (event) => {
          const target = event.target;
          if (!(target instanceof HTMLButtonElement)) return;
          const id = target.dataset.id, decision = target.dataset.decision;
          const standing = target.dataset.for ? "&for=" + target.dataset.for : "";
          post("/pending/" + encodeURIComponent(id) + "/" + decision + "?by=page" + standing, id);
        });
        rules.addEventListener("click", (event) => {
          const target = event.target;
          if (!(target instanceof HTMLButtonElement) || !target.dataset.revoke) return;
          post("/rules/" + encodeURIComponent(target.dataset.revoke) + "/revoke", target.dataset.revoke);
        });
        refresh();
        setInterval(refresh, 2000);
        """
}
