import NIOSSL
import SwiftASN1
import X509

extension LeafCertificate {
    /// A server TLS context presenting this leaf. Only HTTP/1.1 is offered (ALPN), so clients
    /// never try h2 on an intercepted connection.
    public func makeServerContext() throws -> NIOSSLContext {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let certificate = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        let key = try NIOSSLPrivateKey(bytes: privateKeyDER, format: .der)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)],
            privateKey: .privateKey(key)
        )
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }
}
