import EgressRoutes
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("which responses inbound DLP scans")
struct ExchangeDLPTests {
    static let dlp = ExchangeDLP(
        route: try! RoutesConfig.parse(yaml: "routes:\n  - host: a.test\n", file: "routes.yaml").routes[0]
    )

    static func scans(_ headers: HTTPHeaders, status: HTTPResponseStatus = .ok, method: HTTPMethod = .GET) -> Bool {
        dlp.scansResponse(HTTPResponseHead(version: .http1_1, status: status, headers: headers), requestMethod: method)
    }

    @Test func textIsScannedAndBinaryIsNot() {
        #expect(Self.scans(["content-type": "application/json; charset=utf-8"]))
        #expect(Self.scans(["content-type": "text/event-stream"]))
        #expect(Self.scans([:]), "unlabelled content could be anything")
        #expect(!Self.scans(["content-type": "application/x-git-upload-pack-result"]))
        #expect(!Self.scans(["content-type": "text/html"], method: .HEAD))
        #expect(!Self.scans(["content-type": "text/html"], status: .notModified))
    }

    /// A client may honour any of several labels: a binary one first must not hide a text one.
    @Test func severalContentTypesAreScanned() {
        var headers: HTTPHeaders = ["content-type": "application/octet-stream"]
        headers.add(name: "content-type", value: "text/plain")
        #expect(Self.scans(headers))
        var stream: HTTPHeaders = ["content-type": "text/event-stream"]
        stream.add(name: "content-type", value: "text/event-stream")
        #expect(EventStreamSplitter.kind(of: HTTPResponseHead(version: .http1_1, status: .ok, headers: stream)) == nil, "held whole instead")
    }
}
