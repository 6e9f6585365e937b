import Frontend
import ServiceLifecycle

/// The proxy and its control listener as one swift-service-lifecycle service: it runs until the
/// group asks for a graceful shutdown (SIGTERM, SIGINT), then drains the proxy and stops both.
/// Requests held for the operator are refused once the control listener is gone: nobody could
/// decide them during the drain.
struct SidecarService: Service {
    let proxy: ProxyServer
    let control: ControlServer
    let supervision: SupervisionQueue

    func run() async throws {
        // Returns when graceful shutdown is requested; throws if the task is cancelled instead.
        // Either way the sidecar stops the same way.
        try? await gracefulShutdown()
        await control.shutdown()
        supervision.refuseAllHeld()
        await proxy.shutdown()
    }
}
