/// The token values for a plan's slots, read from the host environment: what `egress.env` holds.
///
/// Printing one never shows a value (`description`, `debugDescription` and reflection name the slots only),
/// so a token cannot reach a log or a test failure message by accident.
public struct ResolvedTokens: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Slot name and token value, in slot order.
    private let entries: [(slot: String, value: String)]

    /// The slots filled, in order.
    public var slots: [String] { entries.map(\.slot) }

    /// The value for `slot`, if the plan has that slot.
    public func value(for slot: String) -> String? {
        entries.first { $0.slot == slot }?.value
    }

    /// Reads each slot's host variable from `environment`.
    ///
    /// An unset or empty variable is an error naming it and the routes that need it. So is a value docker's
    /// `--env-file` cannot carry: that format has no quoting or escaping, and a value runs to the end of its
    /// line, so a line break (`\n`, `\r`) or NUL cannot be represented. Errors never contain values.
    public init(slots: [TokenSlot], environment: [String: String]) throws(PlanError) {
        var entries: [(slot: String, value: String)] = []
        for slot in slots {
            let users = slot.users.map(\.description).joined(separator: ", ")
            guard let value = environment[slot.tokenRef] else {
                throw .unsetVariable(slot.tokenRef, users: users)
            }
            guard !value.isEmpty else { throw .emptyVariable(slot.tokenRef, users: users) }
            guard !value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
                throw .unrepresentableValue(slot.tokenRef, users: users)
            }
            entries.append((slot.slot, value))
        }
        self.entries = entries
    }

    /// `egress.env`: one `EGRESS_TOKEN_<n>=value` line per slot, for `docker run --env-file`. Empty when the
    /// plan injects no credentials.
    public func envFile() -> String {
        entries.map { "\($0.slot)=\($0.value)\n" }.joined()
    }

    public static func == (lhs: ResolvedTokens, rhs: ResolvedTokens) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.slot == $1.slot && $0.value == $1.value }
    }

    /// `ResolvedTokens(EGRESS_TOKEN_0, EGRESS_TOKEN_1)`: the slots, never the values.
    public var description: String { "ResolvedTokens(\(slots.joined(separator: ", ")))" }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["slots": slots]) }
}

extension EgressPlan {
    /// The token values for this plan's slots from `environment` (the host's); see `ResolvedTokens`.
    public func resolveTokens(environment: [String: String]) throws(PlanError) -> ResolvedTokens {
        try ResolvedTokens(slots: tokenSlots, environment: environment)
    }
}
