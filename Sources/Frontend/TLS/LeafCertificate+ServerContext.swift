import NIOSSL
import SwiftASN1
import X509

extension LeafCertificate {
    /// What an intercepted connection offers by ALPN: HTTP/2 first, as the real server most likely
    /// would, so a client that prefers it keeps one multiplexed connection (README, "Streaming").
    public static let interceptionProtocols = ["h2", "http/1.1"]

    /// A server TLS context presenting this leaf and offering `applicationProtocols` by ALPN.
    public func makeServerContext(applicationProtocols: [String] = interceptionProtocols) throws -> NIOSSLContext {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let certificate = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        let key = try NIOSSLPrivateKey(bytes: privateKeyDER, format: .der)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)],
            privateKey: .privateKey(key)
        )
        configuration.applicationProtocols = applicationProtocols
        return try NIOSSLContext(configuration: configuration)
    }
}
