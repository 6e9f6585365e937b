import NIOCore

/// The SSRF / DNS-rebinding guard: which resolved addresses an upstream connection may not use
/// unless the operator passed `--allow-private-upstreams`.
///
/// IPv4: every range of the IANA IPv4 special-purpose address registry that is not globally
/// reachable, plus multicast. IPv6: everything outside global unicast (2000::/3) — loopback,
/// unspecified, unique-local, link-local, multicast, discard, SRv6 — and inside it the
/// non-global registry ranges; an address that embeds an IPv4 address (IPv4-mapped, NAT64
/// 64:ff9b::/96, 6to4 2002::/16) is judged by the embedded address. The README lists the ranges.
public enum AddressGuard {
    /// A denied range, for reasons and the README table.
    public struct Range: Sendable, Equatable {
        public let cidr: String
        public let name: String
    }

    public static func isForbidden(_ address: SocketAddress) -> Bool { deniedRange(address) != nil }

    /// The range that denies `address`, or `nil` when the guard allows it.
    public static func deniedRange(_ address: SocketAddress) -> Range? {
        switch address {
        case .v4(let v4):
            return deniedRange(ipv4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            return deniedRange(ipv6: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        case .unixDomainSocket:
            return Range(cidr: "unix", name: "a unix socket")
        }
    }

    // Network, prefix length, range.
    static let ipv4Denied: [(network: UInt32, prefix: Int, range: Range)] = [
        (0x0000_0000, 8, Range(cidr: "0.0.0.0/8", name: "this network")),
        (0x0A00_0000, 8, Range(cidr: "10.0.0.0/8", name: "private")),
        (0x6440_0000, 10, Range(cidr: "100.64.0.0/10", name: "shared address space (carrier-grade NAT)")),
        (0x7F00_0000, 8, Range(cidr: "127.0.0.0/8", name: "loopback")),
        (0xA9FE_0000, 16, Range(cidr: "169.254.0.0/16", name: "link-local (cloud metadata)")),
        (0xAC10_0000, 12, Range(cidr: "172.16.0.0/12", name: "private")),
        (0xC000_0000, 24, Range(cidr: "192.0.0.0/24", name: "IETF protocol assignments")),
        (0xC000_0200, 24, Range(cidr: "192.0.2.0/24", name: "documentation (TEST-NET-1)")),
        (0xC058_6300, 24, Range(cidr: "192.88.99.0/24", name: "deprecated 6to4 relay anycast")),
        (0xC0A8_0000, 16, Range(cidr: "192.168.0.0/16", name: "private")),
        (0xC612_0000, 15, Range(cidr: "198.18.0.0/15", name: "benchmarking")),
        (0xC633_6400, 24, Range(cidr: "198.51.100.0/24", name: "documentation (TEST-NET-2)")),
        (0xCB00_7100, 24, Range(cidr: "203.0.113.0/24", name: "documentation (TEST-NET-3)")),
        (0xE000_0000, 4, Range(cidr: "224.0.0.0/4", name: "multicast")),
        (0xF000_0000, 4, Range(cidr: "240.0.0.0/4", name: "reserved (incl. broadcast)")),
    ]

    // Ranges inside 2000::/3 that are not globally reachable, as (bytes, prefix length, range).
    static let ipv6DeniedInGlobalUnicast: [(network: [UInt8], prefix: Int, range: Range)] = [
        // Teredo (2001::/32) lies inside; it is refused outright rather than judged by its
        // obfuscated IPv4 address.
        ([0x20, 0x01, 0x00, 0x00], 23, Range(cidr: "2001::/23", name: "IETF protocol assignments (incl. Teredo)")),
        ([0x20, 0x01, 0x0D, 0xB8], 32, Range(cidr: "2001:db8::/32", name: "documentation")),
        ([0x3F, 0xFF, 0x00, 0x00], 20, Range(cidr: "3fff::/20", name: "documentation")),
    ]

    /// Global ranges inside 2001::/23 (registry entries marked globally reachable).
    static let ipv6GlobalExceptions: [(network: [UInt8], prefix: Int)] = [
        ([0x20, 0x01, 0x00, 0x03], 32),  // AMT
        ([0x20, 0x01, 0x00, 0x04, 0x01, 0x12], 48),  // AS112-v6
        ([0x20, 0x01, 0x00, 0x20], 28),  // ORCHIDv2
        ([0x20, 0x01, 0x00, 0x30], 28),  // Drone remote ID
    ]

    static func deniedRange(ipv4 address: UInt32) -> Range? {
        ipv4Denied.first { entry in
            let mask: UInt32 = entry.prefix == 0 ? 0 : ~UInt32(0) << (32 - entry.prefix)
            return address & mask == entry.network & mask
        }?.range
    }

    static func deniedRange(ipv6 bytes: [UInt8]) -> Range? {
        guard bytes.count == 16 else { return Range(cidr: "?", name: "not an IPv6 address") }
        if let embedded = embeddedIPv4(bytes) {
            return deniedRange(ipv4: embedded.address).map {
                Range(cidr: "\(embedded.form) of \($0.cidr)", name: $0.name)
            }
        }
        // Outside global unicast nothing is reachable on the internet.
        if bytes[0] & 0xE0 != 0x20 { return outsideGlobalUnicast(bytes) }
        for entry in ipv6DeniedInGlobalUnicast where hasPrefix(bytes, entry.network, entry.prefix) {
            if entry.prefix == 23, ipv6GlobalExceptions.contains(where: { hasPrefix(bytes, $0.network, $0.prefix) }) {
                return nil
            }
            return entry.range
        }
        return nil
    }

    /// IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::` reach the
    /// IPv4 host they embed.
    static func embeddedIPv4(_ bytes: [UInt8]) -> (address: UInt32, form: String)? {
        func ipv4(at offset: Int) -> UInt32 {
            bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return (ipv4(at: 12), "IPv4-mapped")
        }
        if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return (ipv4(at: 12), "NAT64")
        }
        if bytes[0] == 0x20 && bytes[1] == 0x02 {
            return (ipv4(at: 2), "6to4")
        }
        return nil
    }

    private static func hasPrefix(_ bytes: [UInt8], _ network: [UInt8], _ prefix: Int) -> Bool {
        var remaining = prefix
        for index in 0..<16 where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            let expected = index < network.count ? network[index] : 0
            if bytes[index] & mask != expected & mask { return false }
            remaining -= bits
        }
        return true
    }

    private static func outsideGlobalUnicast(_ bytes: [UInt8]) -> Range {
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 {
            return bytes[15] == 1
                ? Range(cidr: "::1/128", name: "loopback") : Range(cidr: "::/128", name: "unspecified")
        }
        if bytes[0] & 0xFE == 0xFC { return Range(cidr: "fc00::/7", name: "unique local") }
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return Range(cidr: "fe80::/10", name: "link-local") }
        if bytes[0] == 0xFF { return Range(cidr: "ff00::/8", name: "multicast") }
        return Range(cidr: "outside 2000::/3", name: "not global unicast")
    }
}
