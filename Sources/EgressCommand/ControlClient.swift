import AsyncHTTPClient
import Foundation
import Frontend
import NIOCore
import NIOHTTP1

/// A client of the control listener for `egress supervise`: one request, a status and a body.
struct ControlClient {
    let address: ControlAddress
    let token: ControlToken?

    struct Reply {
        var status: Int
        var body: Data

        /// The body as a JSON object, if it is one.
        var object: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        }

        /// The server's `{"error": …}` message, if it sent one.
        var errorMessage: String? { object?["error"] as? String }
    }

    func send(_ method: HTTPMethod, _ path: String) async throws -> Reply {
        let url: String
        switch address {
        case .unix(let socketPath):
            guard let socketURL = URL(httpURLWithSocketPath: socketPath, uri: path) else {
                throw CommandFailure("--control \(address): not a usable socket path")
            }
            url = socketURL.absoluteString
        case .tcp:
            url = "http://\(address)\(path)"
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token.value)") }
        // One attempt: an operator wants "not running" at once, not after a retry loop.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: Result<Reply, any Error>
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            result = .success(Reply(status: Int(response.status.code), body: Data(body.readableBytesView)))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()
        let reply: Reply
        switch result {
        case .success(let success): reply = success
        case .failure(let error):
            throw CommandFailure("cannot reach the control listener at \(address): \(Self.describe(error))")
        }
        if reply.status == 401 {
            throw CommandFailure(
                "the control listener at \(address) refused the request (401 unauthorized): "
                    + (token == nil ? "pass --control-token-file" : "wrong token in --control-token-file")
            )
        }
        return reply
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return String(describing: error) }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return String(describing: error)
    }
}
