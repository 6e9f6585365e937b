import ArgumentParser
import Foundation

/// `egress health`: asks the control listener's `GET /healthz`, for container health checks
/// (the Dockerfile's `HEALTHCHECK`, a Kubernetes exec probe). Exit 0 when the sidecar answers ok.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that a running sidecar answers on its control listener (exit 0 = healthy)."
    )

    @OptionGroup var control: ControlOptions

    func run() async throws {
        let reply = try await control.client().send(.GET, "/healthz")
        guard reply.status == 200,
            ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any])?["status"] as? String == "ok"
        else {
            throw CommandFailure(
                "the control listener answered \(reply.status): \(reply.errorMessage ?? "not healthy")"
            )
        }
        print("ok")
    }
}
