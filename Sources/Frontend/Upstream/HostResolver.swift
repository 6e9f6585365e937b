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

    static func resolve(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
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
