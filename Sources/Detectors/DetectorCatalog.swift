/// The built-in detectors (README, "DLP"). Ids are stable: they appear in `routes.yaml`, on the wire
/// and in redaction markers, so never rename one.
public enum DetectorCatalog {
    /// Every detector, outbound secrets first, then inbound prompt-injection detectors.
    public static let all: [DetectorDefinition] = outbound + inbound

    /// The ids of every detector.
    public static let knownIDs: Set<String> = Set(all.map(\.id))

    /// The default set for a direction: every secret detector outbound, every injection
    /// detector inbound. In catalog order.
    public static func defaultIDs(for direction: ScanDirection) -> [String] {
        switch direction {
        case .outbound: outboundIDs
        case .inbound: inboundIDs
        }
    }

    public static func definition(id: String) -> DetectorDefinition? {
        byID[id]
    }

    /// An inbound detector's severity; `nil` for outbound and unknown ids.
    public static func severity(of id: String) -> InjectionSeverity? {
        byID[id]?.severity
    }

    private static let outboundIDs: [String] = all.filter { $0.direction == .outbound }.map(\.id)
    private static let inboundIDs: [String] = all.filter { $0.direction == .inbound }.map(\.id)

    private static let byID: [String: DetectorDefinition] = all.reduce(into: [:]) { table, definition in
        if table[definition.id] == nil {
            table[definition.id] = definition
        }
    }
}

/// Pattern fragments shared by catalog entries.
enum PatternPart {
    /// Not preceded by a token character: the match does not start inside a longer token.
    static let leading = "(?<![A-Za-z0-9_])"
    /// Not preceded by a token character, `-` included (base64url alphabets). Besides false
    /// positives, this keeps repeated prefixes (`glpat-glpat-…`) from costing a long attempt each.
    static let leadingDash = "(?<![A-Za-z0-9_-])"
    /// Not followed by a token character.
    static let trailing = "(?![A-Za-z0-9_])"
    /// Not followed by a token character, `-` included (base64url alphabets).
    static let trailingDash = "(?![A-Za-z0-9_-])"

    /// `keyword <separator> value`, as in env files, YAML, JSON, XML, CLI flags and code:
    /// one of `keywords` (case-insensitive), up to 20 more name characters, closing quotes, an
    /// assignment operator (or just whitespace), an opening quote, then `value` as group 1.
    static func assignment(_ keywords: [String], value: String, valueEnd: String) -> String {
        let names = keywords.map(escaped).joined(separator: "|")
        return #"(?i:"# + names
            + #")[A-Za-z0-9_.\-]{0,20}?[\\"'\]]{0,3}[ \t]{0,4}(?:=>|:=|->|[=:,>])?[ \t]{0,4}(?:\\?["'`])?("#
            + value + ")" + valueEnd
    }

    private static func escaped(_ literal: String) -> String {
        var result = ""
        for character in literal {
            if "\\^$.|?*+()[]{}-/".contains(character) {
                result.append("\\")
            }
            result.append(character)
        }
        return result
    }
}
