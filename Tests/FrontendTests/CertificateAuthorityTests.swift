import Foundation
import NIOPosix
import SwiftASN1
import Testing
import X509

@testable import Frontend

@Suite("Certificate authority")
struct CertificateAuthorityTests {
    @Test("created on first use with a 0600 key, then reused and never overwritten")
    func createdOnceAndReused() throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("nested/state")
        let (first, created) = try CertificateAuthority.loadOrCreate(stateDirectory: state)
        #expect(created)
        let (second, createdAgain) = try CertificateAuthority.loadOrCreate(stateDirectory: state)
        #expect(!createdAgain)
        #expect(first.certificatePEM == second.certificatePEM)
        let mode = try FileManager.default.attributesOfItem(atPath: state + "/ca-key.pem")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: state + "/ca-cert.pem"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).sorted() == ["ca-cert.pem", "ca-key.pem"])
    }

    @Test("a half-present CA is an error, not a reason to make a new one")
    func halfPresent() throws {
        let directory = try TemporaryDirectory()
        _ = try CertificateAuthority.loadOrCreate(stateDirectory: directory.path)
        try FileManager.default.removeItem(atPath: directory.file("ca-key.pem"))
        let before = try String(contentsOfFile: directory.file("ca-cert.pem"), encoding: .utf8)
        #expect(throws: CertificateAuthorityError.self) {
            try CertificateAuthority.loadOrCreate(stateDirectory: directory.path)
        }
        #expect(try String(contentsOfFile: directory.file("ca-cert.pem"), encoding: .utf8) == before)
        #expect(!FileManager.default.fileExists(atPath: directory.file("ca-key.pem")))
    }

    @Test(
        "leaves are P-256, signed by the CA, for the host as DNS or IP name",
        arguments: ["api.test", "127.0.0.1", "::1"]
    )
    func leaves(host: String) throws {
        let authority = try CertificateAuthority.generate(now: Date())
        let leaf = try authority.issueLeaf(for: host)
        #expect(leaf.certificate.issuer == authority.certificate.subject)
        #expect(authority.certificate.publicKey.isValidSignature(leaf.certificate.signature, for: leaf.certificate))
        let names = try #require(try leaf.certificate.extensions.subjectAlternativeNames)
        if IPAddressBytes(host) != nil {
            #expect(names.contains { if case .ipAddress = $0 { true } else { false } })
        } else {
            #expect(Array(names) == [.dnsName(host)])
        }
        #expect(try leaf.certificate.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test("interception contexts are cached per host with a bound", .timeLimit(.minutes(1)))
    func contextCache() async throws {
        let authority = try CertificateAuthority.generate(now: Date())
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let cache = InterceptionContextCache(authority: authority, capacity: 2, threadPool: pool)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let a = try await cache.context(for: "a.test", on: loop).get()
        let again = try await cache.context(for: "A.test", on: loop).get()
        #expect(a === again)
        _ = try await cache.context(for: "b.test", on: loop).get()
        _ = try await cache.context(for: "c.test", on: loop).get()
        #expect(cache.count == 2)
        try await pool.shutdownGracefully()
    }
}
