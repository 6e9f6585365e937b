import Yams

extension RoutesConfig {
    /// routes.yaml text for this config, such that `parse(yaml: render(), file:) == self` for every valid
    /// config (one that `parse` could have produced).
    ///
    /// Keys come in the order of the README's "routes.yaml"; `log` is omitted when 0, and so is every optional key at its
    /// default (`matches` absent, `git.fetch: false`, default DLP). `routes: []` is written when empty.
    /// Strings are always double-quoted, so values like `"1"`, `"true"`, `": x"` or `"#"` keep their type;
    /// `.off` detector selections are written `false`.
    ///
    /// (A string starting with U+FEFF is not a valid value: Yams drops a leading byte order mark from every
    /// scalar it reads, so `parse` never produces one and such a value would not survive a round trip.)
    public func render() -> String {
        var top: [(Node, Node)] = []
        if log != .off {
            top.append((RenderNode.key("log"), RenderNode.integer(log.rawValue)))
        }
        top.append((RenderNode.key("routes"), RenderNode.list(routes.map(Self.node(for:)))))
        do {
            return try Yams.serialize(node: RenderNode.map(top), indent: 2, width: -1, allowUnicode: true)
        } catch {
            // The emitter only fails on malformed event streams, which a tree built here cannot produce.
            preconditionFailure("cannot render routes.yaml: \(error)")
        }
    }

    private static func node(for route: Route) -> Node {
        var pairs: [(Node, Node)] = [(RenderNode.key("host"), RenderNode.string(route.host.description))]
        if let auth = route.auth {
            pairs.append((RenderNode.key("auth_scheme"), RenderNode.string(auth.scheme.rawValue)))
            pairs.append((RenderNode.key("token_env"), RenderNode.string(auth.tokenEnv)))
        }
        if let matches = route.matches {
            pairs.append((RenderNode.key("matches"), RenderNode.list(matches.map(node(for:)))))
        }
        if route.gitFetch {
            pairs.append((RenderNode.key("git"), RenderNode.map([(RenderNode.key("fetch"), RenderNode.bool(true))])))
        }
        if let dlp = node(for: route.dlp) {
            pairs.append((RenderNode.key("dlp"), dlp))
        }
        return RenderNode.map(pairs)
    }

    private static func node(for entry: MatchEntry) -> Node {
        var pairs: [(Node, Node)] = []
        if let paths = entry.paths {
            let items = paths.map { path in
                var item: [(Node, Node)] = []
                if path.kind != .prefix {
                    item.append((RenderNode.key("type"), RenderNode.string(path.kind.rawValue)))
                }
                item.append((RenderNode.key("value"), RenderNode.string(path.value)))
                return RenderNode.map(item)
            }
            pairs.append((RenderNode.key("paths"), RenderNode.list(items)))
        }
        if let methods = entry.methods {
            pairs.append((RenderNode.key("methods"), RenderNode.list(methods.map(RenderNode.string), flow: true)))
        }
        if let headers = entry.headers {
            let items = headers.map { header in
                var item: [(Node, Node)] = [(RenderNode.key("name"), RenderNode.string(header.name))]
                if header.kind != .exact {
                    item.append((RenderNode.key("type"), RenderNode.string(header.kind.rawValue)))
                }
                item.append((RenderNode.key("value"), RenderNode.string(header.value)))
                return RenderNode.map(item)
            }
            pairs.append((RenderNode.key("headers"), RenderNode.list(items)))
        }
        return RenderNode.map(pairs)
    }

    /// `nil` when every DLP setting is at its default, so the key is omitted.
    private static func node(for dlp: DLPPolicy) -> Node? {
        var pairs: [(Node, Node)] = []
        if let node = node(for: dlp.outboundDetectors) {
            pairs.append((RenderNode.key("outbound_detectors"), node))
        }
        if let node = node(for: dlp.inboundDetectors) {
            pairs.append((RenderNode.key("inbound_detectors"), node))
        }
        if let action = dlp.outboundOnMatch {
            pairs.append((RenderNode.key("outbound_on_match"), RenderNode.string(action.rawValue)))
        }
        if let action = dlp.inboundOnMatch {
            pairs.append((RenderNode.key("inbound_on_match"), RenderNode.string(action.rawValue)))
        }
        if let threshold = dlp.inboundThreshold {
            pairs.append((RenderNode.key("inbound_threshold"), RenderNode.string(threshold.rawValue)))
        }
        return pairs.isEmpty ? nil : RenderNode.map(pairs)
    }

    private static func node(for selection: DetectorSelection) -> Node? {
        switch selection {
        case .defaultSet: nil
        case .off: RenderNode.bool(false)
        case .only(let names): RenderNode.list(names.map(RenderNode.string), flow: true)
        }
    }
}

/// Scalars with explicit tags and styles, so the emitter never has to guess a type.
private enum RenderNode {
    static func key(_ name: String) -> Node {
        .scalar(Node.Scalar(name, Tag(.str), .plain))
    }

    static func string(_ value: String) -> Node {
        .scalar(Node.Scalar(value, Tag(.str), .doubleQuoted))
    }

    static func integer(_ value: Int) -> Node {
        .scalar(Node.Scalar(String(value), Tag(.int), .plain))
    }

    static func bool(_ value: Bool) -> Node {
        .scalar(Node.Scalar(value ? "true" : "false", Tag(.bool), .plain))
    }

    static func list(_ items: [Node], flow: Bool = false) -> Node {
        .sequence(Node.Sequence(items, Tag(.seq), flow ? .flow : .block))
    }

    static func map(_ pairs: [(Node, Node)]) -> Node {
        .mapping(Node.Mapping(pairs, Tag(.map), .block))
    }
}
