import Yams

/// Strict, typed access to a composed YAML document, reporting every mismatch as a `RoutesConfigError`
/// that names the file and the key path.
///
/// Works on Yams' `Node` tree rather than decoded values so that `1`, `"1"`, `true` and `1.0` stay
/// distinct: a quoted scalar is always a string, and a plain scalar is whatever YAML resolves it to.
/// - strings: scalars that resolve to `str` (quoted, `!!str`, or plain text that is not a number, boolean,
///   null or timestamp). `value: 1` is an error; write `value: "1"`.
/// - booleans: plain `true`/`false` (also `True`, `TRUE`, ...); YAML 1.1's `yes`/`on` are rejected.
/// - lists and mappings must be exactly that; `key:` with no value is `null`, not an empty list.
///
/// Shared by the sidecar's routes.yaml parser and the host-side planner (manifest `egress:` section).
package struct YAMLReader: Sendable {
    package let file: String

    package init(file: String) {
        self.file = file
    }

    /// Composes the single document in `yaml` (a leading byte order mark is ignored). Syntax errors become
    /// `<file>: line N: <message>`; an empty document (nothing but comments or whitespace) is an error at the
    /// document root.
    package func document(_ yaml: String) throws(RoutesConfigError) -> Node {
        // libyaml only skips a byte order mark when it detects the encoding itself; Yams sets UTF-8 explicitly.
        let yaml = yaml.hasPrefix("\u{FEFF}") ? String(yaml.dropFirst()) : yaml
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch let error as YamlError {
            throw syntaxError(error, yaml: yaml)
        } catch {
            throw .unreadable(file: file, message: "cannot parse YAML: \(error)")
        }
        guard let root else {
            throw .invalid(file: file, at: .root, expected: "a mapping", found: "an empty document")
        }
        return root
    }

    /// The mapping at `path`, after checking that every key is a string, appears once and is one of
    /// `allowedKeys` (unknown keys are errors: a typo must not silently weaken policy).
    package func mapping(
        _ node: Node?,
        at path: YAMLPath,
        allowedKeys: [String]
    ) throws(RoutesConfigError) -> YAMLMapping {
        guard let mapping = node?.mapping else {
            throw failure(at: path, expected: "a mapping", found: node)
        }
        var entries: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard isString(keyNode), let key = keyNode.scalar?.string else {
                throw failure(at: path, expected: "string keys", found: keyNode)
            }
            guard allowedKeys.contains(key) else {
                let expected =
                    allowedKeys.isEmpty
                    ? "no keys" : "one of the keys \(allowedKeys.joined(separator: ", "))"
                throw .invalid(file: file, at: path.key(key), expected: expected, found: "an unknown key")
            }
            guard entries.updateValue(value, forKey: key) == nil else {
                throw .invalid(file: file, at: path.key(key), expected: "each key once", found: "a duplicate key")
            }
        }
        return YAMLMapping(path: path, entries: entries)
    }

    /// The items of the list at `path`.
    package func sequence(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> [Node] {
        guard let sequence = node?.sequence else {
            throw failure(at: path, expected: "a list", found: node)
        }
        return Array(sequence)
    }

    /// A string scalar. `expected` describes it in the error (e.g. `a host name`).
    package func string(
        _ node: Node?,
        at path: YAMLPath,
        expected: String = "a string"
    ) throws(RoutesConfigError) -> String {
        guard let node, isString(node), let scalar = node.scalar else {
            throw failure(at: path, expected: expected, found: node)
        }
        return scalar.string
    }

    /// A plain YAML boolean: `true` or `false`.
    package func bool(_ node: Node?, at path: YAMLPath) throws(RoutesConfigError) -> Bool {
        guard let node, let value = boolValue(node) else {
            throw failure(at: path, expected: "true or false", found: node)
        }
        return value
    }

    /// The boolean `node` holds, if it is a plain `true`/`false` scalar.
    package func boolValue(_ node: Node) -> Bool? {
        guard let scalar = node.scalar, scalar.style == .plain, node.tag.rawValue == Tag.Name.bool.rawValue else {
            return nil
        }
        switch scalar.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A plain integer scalar written exactly as one of `allowed` (so `+1`, `01`, `0x1` and `1.0` are rejected).
    package func integer(
        _ node: Node?,
        at path: YAMLPath,
        allowed: [Int],
        expected: String
    ) throws(RoutesConfigError) -> Int {
        guard let node, let scalar = node.scalar, scalar.style == .plain,
            node.tag.rawValue == Tag.Name.int.rawValue,
            let value = allowed.first(where: { String($0) == scalar.string })
        else {
            throw failure(at: path, expected: expected, found: node)
        }
        return value
    }

    /// A string that must be one of a fixed set of words, e.g. `prefix`/`exact`/`regex`.
    package func keyword<Keyword: CaseIterable & RawRepresentable<String>>(
        _ node: Node?,
        at path: YAMLPath,
        as type: Keyword.Type,
        caseInsensitive: Bool = false
    ) throws(RoutesConfigError) -> Keyword {
        let expected = "one of \(Keyword.allCases.map(\.rawValue).joined(separator: ", "))"
        let text = try string(node, at: path, expected: expected)
        let word = caseInsensitive ? text.lowercased() : text
        guard let keyword = Keyword(rawValue: word) else {
            throw failure(at: path, expected: expected, found: node)
        }
        return keyword
    }

    package func isString(_ node: Node) -> Bool {
        node.scalar != nil && node.tag.rawValue == Tag.Name.str.rawValue
    }

    /// An error at `path` reading `expected <expected>, got <description of node>`.
    package func failure(at path: YAMLPath, expected: String, found node: Node?) -> RoutesConfigError {
        .invalid(file: file, at: path, expected: expected, found: Self.describe(node))
    }

    /// How a node is named in error messages: `nothing` (key absent), `null`, `true`, `1.0`, `"glob"`,
    /// `a list`, `an empty list`, `a mapping`.
    package static func describe(_ node: Node?) -> String {
        guard let node else { return "nothing" }
        switch node {
        case .scalar(let scalar):
            if node.tag.rawValue == Tag.Name.null.rawValue { return "null" }
            if node.tag.rawValue == Tag.Name.str.rawValue || scalar.style != .plain {
                return ConfigText.quoted(scalar.string)
            }
            return scalar.string
        case .sequence(let sequence): return sequence.isEmpty ? "an empty list" : "a list"
        case .mapping(let mapping): return mapping.isEmpty ? "an empty mapping" : "a mapping"
        case .alias: return "an alias"
        }
    }

    private func syntaxError(_ error: YamlError, yaml: String) -> RoutesConfigError {
        func oneLine(_ text: String) -> String {
            text.split(whereSeparator: \.isNewline).joined(separator: " ")
        }
        func withContext(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context, !context.text.isEmpty else { return oneLine(problem) }
            return oneLine("\(problem) (\(context.text))")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return .syntax(file: file, line: mark.line, message: withContext(problem, context))
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in 1 + yaml.prefix(offset).filter(\.isNewline).count } ?? 1
            return .syntax(file: file, line: line, message: oneLine(problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map(ConfigText.quoted).joined(separator: ", ")
            return .syntax(file: file, line: context.mark.line, message: "duplicate key \(keys)")
        default:
            return .unreadable(file: file, message: "cannot parse YAML: \(oneLine(error.description))")
        }
    }
}

/// A mapping whose keys `YAMLReader.mapping(_:at:allowedKeys:)` has checked.
package struct YAMLMapping {
    /// Where the mapping itself sits; `path.key(name)` is where a value sits.
    package let path: YAMLPath
    private let entries: [String: Node]

    fileprivate init(path: YAMLPath, entries: [String: Node]) {
        self.path = path
        self.entries = entries
    }

    /// The value for `key`, or `nil` when the key is absent (a present `key:` with no value is a null node).
    package subscript(key: String) -> Node? {
        entries[key]
    }

    package func contains(_ key: String) -> Bool {
        entries[key] != nil
    }
}
