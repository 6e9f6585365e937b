import Foundation

/// Reading a YAML file the sidecar or the planner is given: its text, or one error naming the file.
package enum ConfigFile {
    package static func text(at path: String) throws(RoutesConfigError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(file: path, message: "cannot read the file: \(readFailureReason(error))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: path, message: "expected UTF-8 text, got invalid bytes")
        }
        return text
    }

    /// The operating system's reason for a failed read ("No such file or directory"), without
    /// Foundation's wrapping sentence.
    private static func readFailureReason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        return error.localizedDescription
    }
}
