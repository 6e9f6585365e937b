import Foundation
import NIOSSL
import SwiftASN1
import X509

@testable import Frontend

/// A CA that plays the public web PKI for upstream test servers, and helpers to hand its
/// certificates to NIOSSL and to files for curl and git.
struct TestPKI {
    let authority: CertificateAuthority

    init() throws {
        authority = try CertificateAuthority.generate(now: Date())
    }

    func serverContext(for hosts: [String]) throws -> NIOSSLContext {
        let leaf = try authority.issueLeaf(for: hosts[0])
        var serializer = DER.Serializer()
        try serializer.serialize(leaf.certificate)
        let certificate = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        let key = try NIOSSLPrivateKey(bytes: leaf.privateKeyDER, format: .der)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)],
            privateKey: .privateKey(key)
        )
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
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
