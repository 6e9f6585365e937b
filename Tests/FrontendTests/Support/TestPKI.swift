import Foundation
import NIOSSL

@testable import Frontend

/// A CA that plays the public web PKI for upstream test servers, and helpers to hand its
/// certificates to NIOSSL and to files for curl and git.
struct TestPKI {
    let authority: CertificateAuthority

    init() throws {
        authority = try CertificateAuthority.generate(now: Date())
    }

    func serverContext(for host: String, protocols: [String] = ["http/1.1"]) throws -> NIOSSLContext {
        try authority.issueLeaf(for: host).makeServerContext(applicationProtocols: protocols)
    }

    var rootCertificate: NIOSSLCertificate {
        get throws { try NIOSSLCertificate(bytes: Array(authority.certificatePEM.utf8), format: .pem) }
    }

    func writeRoot(to path: String) throws {
        try authority.certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// A fresh temporary directory removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("egress-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
