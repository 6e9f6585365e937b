import NIOHTTP1

/// Trailer fields, which gRPC needs (its status comes last): kept with the exchange and written
/// with the message's end. They are content the other side reads, so the DLP rules apply to them
/// (README, "Streaming"): a response's trailers are scanned with its body; a request's trailers
/// on a route with outbound DLP are refused, since a held request is judged, and possibly
/// redacted, as head and body only.
extension ExchangeStateMachine {
    mutating func requestTrailers(_ trailers: HTTPHeaders) -> [Action] {
        guard case .exchanging(var exchange) = state, !exchange.requestEnded else {
            // A refused request's rest is dropped, trailers with it.
            if case .discarding = state { return [] }
            if case .closed = state { return [] }
            return protocolViolation()
        }
        if !exchange.dlp.outboundDetectors.isEmpty {
            return fail(exchange, Refusal(.badRequest, "egress: request trailers are not allowed on a route with outbound DLP"))
        }
        exchange.requestTrailers = TrailerFields.forwardable(trailers)
        state = .exchanging(exchange)
        return []
    }

    mutating func responseTrailers(_ trailers: HTTPHeaders) -> [Action] {
        guard case .exchanging(var exchange) = state, case .relaying(_, _, let response) = exchange.phase else { return [] }
        switch response {
        case .holding, .streaming:
            exchange.responseTrailers = TrailerFields.forwardable(trailers)
            state = .exchanging(exchange)
        case .streamingEvents:
            // Released event by event, a stream has no scan its trailers could join: they are
            // not forwarded (README, "Streaming").
            break
        case .awaitingHead, .switching:
            return upstreamBroke(exchange)
        }
        return []
    }
}
