import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking getaddrinfo(3), for use on a thread pool: every address, so the address guard can
/// choose one it allows and the connection goes to exactly the address that was checked.
enum HostResolver {
    struct Failure: Error, CustomStringConvertible {
        let host: String
        let message: String
        var description: String { "cannot resolve \(host): \(message)" }
    }

    /// `host` as a numeric address in any spelling the C library accepts (`127.1`, `2130706433`,
    /// `0x7f000001`, `::ffff:127.0.0.1`), without DNS, so it is safe on an event loop; `nil` for a name.
    static func numericAddresses(host: String, port: Int) -> [SocketAddress]? {
        try? resolve(host: host, port: port, flags: AI_NUMERICHOST)
    }

    static func resolve(host: String, port: Int, flags: Int32 = 0) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_flags = flags
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(host: host, message: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let raw = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    let v4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    addresses.append(SocketAddress(v4, host: host))
                case AF_INET6:
                    let v6 = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    addresses.append(SocketAddress(v6, host: host))
                default:
                    break
                }
            }
            cursor = info.pointee.ai_next
        }
        if addresses.isEmpty { throw Failure(host: host, message: "no IPv4 or IPv6 address") }
        return addresses
    }
}
