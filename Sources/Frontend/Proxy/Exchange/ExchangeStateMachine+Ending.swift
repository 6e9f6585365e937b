import EgressRoutes
import NIOCore
import NIOHTTP1

/// How exchanges and connections end: a response delivered, a refusal, the agent gone, a deadline.
/// Each path leaves `.exchanging` exactly once, and that is where the request is settled.
///
/// The state always changes before the action that writes a response's end: that write makes
/// HTTPServerPipelineHandler deliver the next pipelined request, which must find the machine ready
/// for it (docs/ARCHITECTURE.md, "Pipelining").
extension ExchangeStateMachine {
    /// The response was delivered whole.
    mutating func finish(_ exchange: Exchange) -> [Action] {
        var actions: [Action] = [.settle("forwarded")]
        if case .relaying(let connection, _, _) = exchange.phase {
            actions.append(.releaseUpstream(connection, reusable: exchange.upstreamReusable && exchange.requestEnded))
        }
        actions += leaveExchange(exchange)
        // Before the write: a request it delivers may pause reads again for its own upstream.
        actions.append(.resumeReads)
        // A held response is counted until it has left: queued for the agent, it is still held.
        actions.append(.writeResponseEnd(releasingHeld: exchange.heldBytes, trailers: exchange.responseTrailers))
        if exchange.requestEnded && exchange.closeClientAfter { actions.append(.closeAfterWrites) }
        return actions
    }

    /// The exchange ends with a refusal before any response byte reached the agent. `eventContext`
    /// replaces the exchange's context in the block event when the path itself held a secret;
    /// `responseStatus` names the upstream's status when its response was refused.
    mutating func fail(
        _ exchange: Exchange,
        _ refusal: Refusal,
        eventContext: RequestContext? = nil,
        responseStatus: Int? = nil
    ) -> [Action] {
        var actions = abandon(exchange, outcome: refusal.outcome.rawValue)
        actions += leaveExchange(exchange)
        actions.append(.resumeReads)
        actions.append(
            .writeRefusal(
                RefusalResponse(
                    refusal: refusal,
                    version: exchange.clientVersion,
                    event: .block(
                        reason: refusal.reason,
                        context: eventContext ?? exchange.context,
                        responseStatus: responseStatus
                    ),
                    closeConnection: exchange.closeClientAfter
                )
            )
        )
        if exchange.requestEnded && exchange.closeClientAfter { actions.append(.closeAfterWrites) }
        return actions
    }

    /// The state after an answered exchange: the next request; the rest of this one, read and
    /// dropped (closing after it when asked to); or closed. A connection that closes takes no
    /// further request, pipelined or not.
    mutating func leaveExchange(_ exchange: Exchange) -> [Action] {
        if !exchange.requestEnded {
            state = .discarding(closeAfter: exchange.closeClientAfter)
            return [.deadline(deadlines.discardingBody())]
        }
        if exchange.closeClientAfter {
            state = .closed
            return []
        }
        state = .idle
        return [.deadline(deadlines.exchangeFinished())]
    }

    mutating func agentClosed() -> [Action] {
        var actions: [Action] = [.deadline(deadlines.connectionClosed())]
        if case .exchanging(let exchange) = state {
            // Scans and connects still under way may finish later: their results find no exchange.
            actions += abandon(exchange, outcome: "failed")
        }
        state = .closed
        return actions
    }

    mutating func agentReadComplete() -> [Action] {
        guard case .exchanging(let exchange) = state, case .relaying(let connection, _, _) = exchange.phase else {
            return []
        }
        return [.flushUpstream(connection)]
    }

    mutating func agentWritabilityChanged(_ isWritable: Bool) -> [Action] {
        if let actions = eventStreamWritabilityChanged(isWritable) { return actions }
        guard case .exchanging(let exchange) = state, case .relaying(let connection, _, _) = exchange.phase else {
            return []
        }
        return [.setUpstreamAutoRead(connection, isWritable)]
    }

    mutating func deadlineExpired(_ deadline: ConnectionDeadlines.Deadline) -> [Action] {
        // A timer cancelled too late must not act.
        guard let expired = deadlines.expired(deadline) else { return [] }
        let seconds = Self.seconds(deadlines.timeout(of: expired))
        // Whatever expired, this connection takes no further request.
        let previous = state
        state = .closed
        switch expired {
        case .heldBody:
            guard case .exchanging(let exchange) = previous else { return [.closeNow] }
            let reason = "egress: request body not received within \(seconds)"
            let refusal = Refusal(.requestTimeout, reason)
            return abandon(exchange, outcome: refusal.outcome.rawValue) + [
                .writeRefusal(
                    RefusalResponse(
                        refusal: refusal,
                        version: exchange.clientVersion,
                        event: .block(reason: reason, context: exchange.context),
                        closeConnection: true
                    )
                ),
                .closeAfterWrites,
            ]
        case .idle, .discardedBody:
            // Nothing is left to answer: an idle keep-alive connection, or the rest of a request
            // whose refusal was written already.
            let reason =
                expired == .idle
                ? "egress: idle keep-alive connection closed after \(seconds)"
                : "egress: rest of a refused request not received within \(seconds)"
            return [.emit(.connectionClosed(reason: reason), minimum: .full), .closeNow]
        case .requestHead:
            let reason = "egress: request head not received within \(seconds)"
            let refusal = Refusal(.requestTimeout, reason)
            return [
                .settle(refusal.outcome.rawValue),
                .writeRefusal(
                    RefusalResponse(
                        refusal: refusal,
                        version: .http1_1,
                        event: .block(reason: reason, context: RequestContext(host: tunnelHost, method: "", path: "")),
                        closeConnection: true,
                        withoutRequest: true
                    )
                ),
                .closeAfterWrites,
            ]
        case .clientHello, .tlsHandshake:
            let reason =
                expired == .clientHello
                ? "egress: no TLS ClientHello within \(seconds) of CONNECT"
                : "egress: TLS handshake not completed within \(seconds)"
            return [
                .emit(
                    .block(reason: reason, context: RequestContext(host: tunnelHost, method: "CONNECT", path: tunnelHost)),
                    minimum: .blocks
                ),
                .closeNow,
            ]
        }
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1_000_000_000
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
