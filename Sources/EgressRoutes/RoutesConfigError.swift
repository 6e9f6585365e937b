/// Why a routes file (or a manifest's `egress` section) was rejected.
///
/// `description` is always one line naming the file and where the problem is:
/// - a value: `routes.yaml: routes[0].matches[1].paths[0].type: expected one of prefix, exact, regex, got "glob"`
/// - YAML syntax: `routes.yaml: line 3: could not find expected ':' (while scanning a simple key)`
/// - reading: `routes.yaml: cannot read the file: No such file or directory`
///
/// Messages quote the offending value. The files hold environment variable names, never tokens, so
/// quoting values is safe.
public struct RoutesConfigError: Error, CustomStringConvertible, Equatable {
    private enum Location: Equatable {
        /// A value in the document; the empty path is the document itself.
        case keyPath(String)
        /// A YAML syntax error, 1-based line.
        case line(Int)
        /// The file as a whole (could not be read or decoded).
        case file
    }

    /// The file name as given to `parse(yaml:file:)` or `load(path:)`.
    public let file: String
    private let location: Location
    /// What was expected and what was found, or the YAML parser's message for syntax errors.
    public let message: String

    /// The key path of the offending value (e.g. `routes[0].dlp.inbound_on_match`); `""` for the document
    /// itself; `nil` for syntax and read errors.
    public var keyPath: String? {
        if case .keyPath(let path) = location { return path }
        return nil
    }

    /// The 1-based line of a YAML syntax error; `nil` otherwise.
    public var line: Int? {
        if case .line(let line) = location { return line }
        return nil
    }

    public var description: String {
        switch location {
        case .keyPath(let path) where !path.isEmpty: "\(file): \(path): \(message)"
        case .keyPath, .file: "\(file): \(message)"
        case .line(let line): "\(file): line \(line): \(message)"
        }
    }

    /// A value was not what the schema wants. `expected` and `found` are phrases such as
    /// `the integer 0, 1 or 2` and `true`; the message reads `expected <expected>, got <found>`.
    package static func invalid(file: String, at path: YAMLPath, expected: String, found: String) -> Self {
        Self(file: file, location: .keyPath(path.description), message: "expected \(expected), got \(found)")
    }

    package static func syntax(file: String, line: Int, message: String) -> Self {
        Self(file: file, location: .line(line), message: message)
    }

    package static func unreadable(file: String, message: String) -> Self {
        Self(file: file, location: .file, message: message)
    }
}
