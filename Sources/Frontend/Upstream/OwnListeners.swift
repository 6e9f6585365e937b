import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The proxy's own listening sockets (proxy and TCP control listener), which an upstream connection
/// must never reach, whatever the spelling of the target and even with `--allow-private-upstreams`.
///
/// Judged on resolved addresses, never on names: `127.1`, `2130706433`, `0x7f000001`,
/// `[::ffff:127.0.0.1]` and a name resolving to a local address all arrive here as the same
/// address. An address is the proxy's own when its port is one of the listeners' ports and it is
/// local to this host: loopback (all of 127/8, ::1), unspecified (connecting to 0.0.0.0 reaches
/// the host itself), or an address of one of the host's interfaces. That is broader than the exact
/// bound address on purpose: a listener on 0.0.0.0 answers on every one of them.
final class OwnListeners: Sendable {
    private let ports = NIOLockedValueBox<Set<Int>>([])
    /// The host's interface addresses, read once at start-up (IPv4 as 4 bytes, IPv6 as 16).
    private let interfaceAddresses: Set<[UInt8]>

    init(interfaceAddresses: Set<[UInt8]> = OwnListeners.readInterfaceAddresses()) {
        self.interfaceAddresses = interfaceAddresses
    }

    func add(port: Int) {
        ports.withLockedValue { _ = $0.insert(port) }
    }

    /// `interfaces` replaces the start-up list with a fresh one (the pool reads it anew, off the
    /// event loop, for every connection it opens: addresses come and go while the proxy runs).
    func contains(_ address: SocketAddress, interfaces: Set<[UInt8]>? = nil) -> Bool {
        guard let port = address.port, ports.withLockedValue({ $0.contains(port) }) else { return false }
        guard let bytes = Self.normalisedBytes(address) else { return false }
        return Self.isLoopbackOrUnspecified(bytes) || (interfaces ?? interfaceAddresses).contains(bytes)
    }

    /// Whether a numeric target (any spelling) is one of ours; names are judged once resolved.
    func contains(numericHost host: String, port: Int) -> Bool {
        // A name is no numeric address: every IPv4 spelling is digits, dots, hex digits and `x`, and
        // every IPv6 one has a colon. Names skip the C library's parser, asked on every request.
        let numericCharacters = host.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "."):
                true
            default:
                false
            }
        }
        guard numericCharacters || host.utf8.contains(UInt8(ascii: ":")) else { return false }
        return HostResolver.numericAddresses(host: host, port: port)?.contains { contains($0) } ?? false
    }

    /// IPv4 as 4 bytes; IPv6 as 16, except IPv4-mapped and IPv4-compatible addresses (other than
    /// `::` and `::1`), which reach the IPv4 host.
    static func normalisedBytes(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return Array(bytes[12..<16])
            }
            if bytes[0..<12].allSatisfy({ $0 == 0 }) && !(bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1) {
                return Array(bytes[12..<16])
            }
            return bytes
        case .unixDomainSocket:
            return nil
        }
    }

    private static func isLoopbackOrUnspecified(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] == 127 || bytes == [0, 0, 0, 0] }
        return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1
    }

    /// getifaddrs(3): every address of every interface of this network namespace.
    static func readInterfaceAddresses() -> Set<[UInt8]> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var addresses: Set<[UInt8]> = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ifa_addr {
                switch Int32(raw.pointee.sa_family) {
                case AF_INET:
                    let v4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    addresses.insert(withUnsafeBytes(of: v4.sin_addr) { Array($0) })
                case AF_INET6:
                    let v6 = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    addresses.insert(withUnsafeBytes(of: v6.sin6_addr) { Array($0) })
                default:
                    break
                }
            }
            cursor = entry.pointee.ifa_next
        }
        return addresses
    }
}
