import NIOCore

/// The SSRF / DNS-rebinding guard: which resolved addresses an upstream connection may not use
/// unless the operator passed `--allow-private-upstreams`.
///
/// Refused: loopback, RFC 1918 and unique-local (fc00::/7) private ranges, link-local
/// (169.254.0.0/16 — cloud metadata lives there — and fe80::/10), unspecified addresses, and
/// IPv4-mapped or -compatible IPv6 forms of any of these.
public enum AddressGuard {
    public static func isForbidden(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            let raw = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return isForbiddenIPv4(raw)
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            return isForbiddenIPv6(bytes)
        case .unixDomainSocket:
            return true
        }
    }

    static func isForbiddenIPv4(_ address: UInt32) -> Bool {
        func inRange(_ network: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return address & mask == network & mask
        }
        return inRange(0x0000_0000, 8)  // 0.0.0.0/8 "this network", incl. unspecified
            || inRange(0x7F00_0000, 8)  // loopback
            || inRange(0x0A00_0000, 8)  // 10/8
            || inRange(0xAC10_0000, 12)  // 172.16/12
            || inRange(0xC0A8_0000, 16)  // 192.168/16
            || inRange(0xA9FE_0000, 16)  // link-local incl. 169.254.169.254
    }

    static func isForbiddenIPv6(_ bytes: [UInt8]) -> Bool {
        precondition(bytes.count == 16)
        let allZeroPrefix = bytes[0..<10].allSatisfy { $0 == 0 }
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) reach IPv4 hosts: judge the IPv4 address.
        if allZeroPrefix && ((bytes[10] == 0xFF && bytes[11] == 0xFF) || (bytes[10] == 0 && bytes[11] == 0)) {
            if bytes[10] == 0 && bytes[12..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 {
                return true  // :: and ::1
            }
            let v4 = bytes[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return isForbiddenIPv4(v4)
        }
        if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        return false
    }
}
