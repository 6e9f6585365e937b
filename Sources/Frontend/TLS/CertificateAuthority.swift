import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The proxy's own CA: what the agent trusts, and what signs a leaf certificate per intercepted host.
///
/// Kept in the state directory as `ca-cert.pem` (0644) and `ca-key.pem` (0600). Created on first use
/// and reused afterwards; an existing file is never overwritten.
public struct CertificateAuthority: Sendable {
    public static let certificateFileName = "ca-cert.pem"
    public static let keyFileName = "ca-key.pem"

    public let certificate: Certificate
    public let certificatePEM: String
    // Crypto's key type is not Sendable; its raw scalar is, and rebuilding the key is cheap.
    private let privateKeyRaw: Data

    var privateKey: P256.Signing.PrivateKey {
        // The bytes came from a valid key, so this cannot fail.
        try! P256.Signing.PrivateKey(rawRepresentation: privateKeyRaw)
    }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws {
        self.certificate = certificate
        self.privateKeyRaw = privateKey.rawRepresentation
        self.certificatePEM = try certificate.serializeAsPEM().pemString
    }

    public static func certificatePath(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(certificateFileName)
    }

    public static func keyPath(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(keyFileName)
    }

    /// Loads the CA from `stateDirectory`, or returns `nil` when neither file exists.
    public static func load(stateDirectory: String) throws(CertificateAuthorityError) -> CertificateAuthority? {
        let certPath = certificatePath(stateDirectory: stateDirectory)
        let keyPath = keyPath(stateDirectory: stateDirectory)
        let fm = FileManager.default
        switch (fm.fileExists(atPath: certPath), fm.fileExists(atPath: keyPath)) {
        case (false, false):
            return nil
        case (true, false):
            throw .init("\(certPath) exists but \(keyPath) does not; refusing to replace an existing CA")
        case (false, true):
            throw .init("\(keyPath) exists but \(certPath) does not; refusing to replace an existing CA")
        case (true, true):
            break
        }
        let certificate: Certificate
        let key: P256.Signing.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: try String(contentsOfFile: certPath, encoding: .utf8))
        } catch {
            throw .init("\(certPath): not a PEM certificate")
        }
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
        } catch {
            throw .init("\(keyPath): not a PEM P-256 private key")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw .init("\(keyPath) does not belong to \(certPath)")
        }
        do {
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch {
            throw .init("\(certPath): cannot be re-encoded as PEM")
        }
    }

    /// Loads the CA, creating it first when the state directory has none.
    public static func loadOrCreate(
        stateDirectory: String,
        now: Date = Date()
    ) throws(CertificateAuthorityError) -> (authority: CertificateAuthority, created: Bool) {
        if let existing = try load(stateDirectory: stateDirectory) { return (existing, false) }
        try createDirectory(stateDirectory)
        let fresh = try generate(now: now)
        let keyPEM = fresh.privateKey.pemRepresentation
        // Write under temporary names, then hard-link into place: link(2) fails if the target exists,
        // so a concurrent start-up can never overwrite a CA another process just created.
        let suffix = ".\(getpid()).tmp"
        let keyPath = keyPath(stateDirectory: stateDirectory)
        let certPath = certificatePath(stateDirectory: stateDirectory)
        try writeNewFile(keyPath + suffix, contents: keyPEM, mode: 0o600)
        try writeNewFile(certPath + suffix, contents: fresh.certificatePEM, mode: 0o644)
        defer {
            unlink(keyPath + suffix)
            unlink(certPath + suffix)
        }
        if link(keyPath + suffix, keyPath) != 0 {
            if errno == EEXIST, let winner = try load(stateDirectory: stateDirectory) { return (winner, false) }
            throw .init("cannot create \(keyPath): \(String(cString: strerror(errno)))")
        }
        if link(certPath + suffix, certPath) != 0 {
            throw .init("cannot create \(certPath): \(String(cString: strerror(errno)))")
        }
        return (fresh, true)
    }

    static func generate(now: Date) throws(CertificateAuthorityError) -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName {
                OrganizationName("bottle egress")
                CommonName("bottle egress CA \(String(UInt32.random(in: .min ... .max), radix: 16))")
            }
            let publicKey = Certificate.PublicKey(key.publicKey)
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-86_400),
                notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch {
            throw .init("cannot generate a CA certificate: \(error)")
        }
    }

    /// Issues a server certificate for `host` (a DNS name or an IP literal), signed by this CA.
    public func issueLeaf(for host: String, now: Date = Date()) throws -> LeafCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subjectName: GeneralName
        if let ip = IPAddressBytes(host) {
            subjectName = .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip.bytes)))
        } else {
            subjectName = .dnsName(host)
        }
        let caKeyIdentifier = SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-86_400),
            notValidAfter: now.addingTimeInterval(LeafCertificate.lifetime),
            issuer: self.certificate.subject,
            subject: try DistinguishedName { CommonName(String(host.prefix(64))) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([subjectName])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(privateKey)
        )
        return LeafCertificate(certificate: certificate, privateKeyDER: Array(key.derRepresentation), issued: now)
    }

    private static func createDirectory(_ path: String) throws(CertificateAuthorityError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .init("cannot create state directory \(path): \(error.localizedDescription)")
        }
    }

    private static func writeNewFile(
        _ path: String,
        contents: String,
        mode: mode_t
    ) throws(CertificateAuthorityError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .init("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // open(2)'s mode is filtered by the umask; the key must be 0600 whatever the umask says.
        fchmod(fd, mode)
        let bytes = Array(contents.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .init("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}

/// A minted server certificate with its key.
public struct LeafCertificate: Sendable {
    /// How long a leaf is valid; the context cache re-mints well before this.
    public static let lifetime: TimeInterval = 90 * 86_400

    public let certificate: Certificate
    public let privateKeyDER: [UInt8]
    public let issued: Date
}

public struct CertificateAuthorityError: Error, CustomStringConvertible, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The address bytes of an IPv4 or IPv6 literal, for IP subject alternative names.
struct IPAddressBytes {
    let bytes: [UInt8]

    init?(_ text: String) {
        let literal = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }
}
