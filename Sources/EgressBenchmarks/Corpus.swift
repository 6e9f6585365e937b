import Foundation

/// A mixed text corpus like what an agent sends: source code, prose, JSON, with a few secrets.
enum Corpus {
    static func make(megabytes: Int) -> [UInt8] {
        var text: [UInt8] = []
        let target = megabytes << 20
        let sources = sourceFiles()
        var index = 0
        var round = 0
        while text.count < target {
            if !sources.isEmpty {
                text += sources[index % sources.count]
                index += 1
            }
            text += Array(json(round).utf8)
            text += Array(prose.utf8)
            if round % 50 == 0 {
                // A few real-looking secrets, so detectors do their full work now and then.
                text += Array("export GITHUB_TOKEN=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\n".utf8)
                text += Array("aws_access_key_id = AKIAZ3MSJV2X5YB4QEQA\n".utf8)
            }
            round += 1
        }
        return Array(text.prefix(target))
    }

    private static func sourceFiles() -> [[UInt8]] {
        var files: [[UInt8]] = []
        for root in ["/opt/swift/usr/lib/swift", ".build/checkouts/swift-nio/Sources"] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let path = walker.nextObject() as? String, files.count < 400 {
                guard path.hasSuffix(".swift") || path.hasSuffix(".h") || path.hasSuffix(".swiftinterface") else {
                    continue
                }
                if let data = FileManager.default.contents(atPath: root + "/" + path), data.count < 200_000 {
                    files.append(Array(data))
                }
            }
        }
        return files
    }

    private static func json(_ round: Int) -> String {
        """
        {"model":"claude-sonnet","max_tokens":1024,"messages":[{"role":"user","content":"Refactor the parser \
        in module \(round) so that errors carry the key path and the expected type."},{"role":"assistant",\
        "content":"Here is the change: the reader now threads a YAMLPath through every call."}]}

        """
    }

    private static let prose = """
        The proxy terminates TLS, routes each request by host, path and method, injects the operator's \
        credential, and scans what leaves for secrets. Scanning happens in separate processes under a \
        seccomp filter, so a crash or a runaway regular expression cannot take the proxy down.

        """
}
