/// Where a value sits in a YAML document, rendered for error messages: `routes[0].matches[1].paths[0].type`.
///
/// Keys made only of letters, digits, `_` and `-` are written `.key`; any other key is written `["key"]`
/// so that a path always reads unambiguously.
package struct YAMLPath: Sendable, Hashable, CustomStringConvertible {
    package private(set) var description: String

    /// The document itself.
    package static let root = YAMLPath(description: "")

    private init(description: String) {
        self.description = description
    }

    /// A path starting at a named key of the document, e.g. `YAMLPath.root.key("egress")`.
    package func key(_ name: String) -> YAMLPath {
        let simple = !name.isEmpty && name.unicodeScalars.allSatisfy(Self.isPlainKeyScalar)
        if simple {
            return YAMLPath(description: description.isEmpty ? name : "\(description).\(name)")
        }
        return YAMLPath(description: "\(description)[\(ConfigText.quoted(name))]")
    }

    private static func isPlainKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-"
    }

    package func index(_ index: Int) -> YAMLPath {
        YAMLPath(description: "\(description)[\(index)]")
    }
}
