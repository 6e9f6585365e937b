import NIOCore
import NIOHTTP1
import Testing

@testable import Frontend

@Suite("Request targets, addresses and headers")
struct ParsingTests {
    @Test func absoluteForm() throws {
        let (target, path) = try RequestTargetParser.parseAbsoluteForm("http://API.test:8080/a/b?c=d#frag").get()
        #expect(target == UpstreamTarget(host: "api.test", port: 8080, isTLS: false))
        #expect(path == "/a/b?c=d")
        let (tls, root) = try RequestTargetParser.parseAbsoluteForm("https://[::1]?x").get()
        #expect(tls == UpstreamTarget(host: "::1", port: 443, isTLS: true))
        #expect(root == "/?x")
        #expect(throws: RequestTargetParser.Failure.userinfo) {
            try RequestTargetParser.parseAbsoluteForm("http://u:p@h/").get()
        }
        #expect(throws: RequestTargetParser.Failure.unsupportedScheme) {
            try RequestTargetParser.parseAbsoluteForm("ftp://h/").get()
        }
        #expect(throws: RequestTargetParser.Failure.malformed) {
            try RequestTargetParser.parseAbsoluteForm("/relative").get()
        }
        #expect(throws: RequestTargetParser.Failure.malformed) {
            try RequestTargetParser.parseAbsoluteForm("http://h:99999/").get()
        }
        #expect(throws: RequestTargetParser.Failure.malformed) {
            try RequestTargetParser.parseAbsoluteForm("http://a b/").get()
        }
    }

    @Test func authorities() {
        #expect(RequestTargetParser.parseAuthority("example.com:443", defaultPort: 443)! == ("example.com", 443))
        #expect(RequestTargetParser.parseAuthority("Example.COM.", defaultPort: 443)! == ("example.com", 443))
        #expect(RequestTargetParser.parseAuthority("[2001:db8::1]:8443", defaultPort: 443)! == ("2001:db8::1", 8443))
        #expect(RequestTargetParser.parseAuthority("user@host:443", defaultPort: 443) == nil)
        #expect(RequestTargetParser.parseAuthority("host:0", defaultPort: 443) == nil)
        #expect(RequestTargetParser.parseAuthority(":443", defaultPort: 443) == nil)
    }

    @Test func tunnelOriginForm() {
        let tunnel = UpstreamTarget(host: "api.test", port: 443, isTLS: true)
        #expect(RequestTargetParser.originForm("/x?y", tunnel: tunnel) == "/x?y")
        #expect(RequestTargetParser.originForm("https://api.test/x", tunnel: tunnel) == "/x")
        #expect(RequestTargetParser.originForm("https://evil.test/x", tunnel: tunnel) == nil)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("10.1.2.3", true), ("172.16.0.1", true), ("172.31.255.255", true),
        ("172.32.0.1", false), ("192.168.1.1", true), ("169.254.169.254", true), ("0.0.0.0", true), ("8.8.8.8", false),
        ("::1", true), ("::", true), ("fd00::1", true), ("fe80::1", true), ("::ffff:127.0.0.1", true),
        ("::ffff:10.0.0.1", true), ("::ffff:1.1.1.1", false), ("2606:4700::1111", false),
        // The rest of the IANA special-purpose registries.
        ("100.64.0.1", true), ("100.127.255.255", true), ("100.128.0.1", false), ("192.0.0.8", true),
        ("192.0.2.1", true), ("198.18.0.1", true), ("198.19.255.255", true), ("198.20.0.1", false),
        ("198.51.100.7", true), ("203.0.113.9", true), ("224.0.0.251", true), ("239.255.255.250", true),
        ("240.0.0.1", true), ("255.255.255.255", true), ("192.88.99.1", true), ("1.1.1.1", false),
        // Embedded IPv4: NAT64, 6to4, mapped, compatible.
        ("64:ff9b::7f00:1", true), ("64:ff9b::a9fe:a9fe", true), ("64:ff9b::808:808", false),
        ("2002:7f00:1::1", true), ("2002:a00:1::", true), ("2002:808:808::1", false), ("::127.0.0.1", true),
        ("::ffff:100.64.0.1", true),
        // IPv6 outside global unicast, and non-global ranges inside it.
        ("ff02::1", true), ("fec0::1", true), ("100::1", true), ("64:ff9b:1::1", true), ("5f00::1", true),
        ("2001::1", true), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", true), ("2001:db8::1", true),
        ("3fff::1", true), ("2001:4:112::1", false), ("2001:20::1", false), ("2a00:1450::1", false),
    ])
    func addressGuard(address: String, forbidden: Bool) throws {
        let socketAddress = try SocketAddress(ipAddress: address, port: 443)
        #expect(AddressGuard.isForbidden(socketAddress) == forbidden)
    }

    @Test func connectTo() throws {
        let override = try ConnectToOverride(parsing: "API.test:443:127.0.0.1:8443")
        #expect(override == ConnectToOverride(host: "api.test", port: 443, address: "127.0.0.1", addressPort: 8443))
        let v6 = try ConnectToOverride(parsing: "api.test:443:[::1]:8443")
        #expect(v6.address == "::1")
        let v6Host = try ConnectToOverride(parsing: "[2001:db8::1]:443:[::1]:8443")
        #expect(v6Host == ConnectToOverride(host: "2001:db8::1", port: 443, address: "::1", addressPort: 8443))
        for bad in [
            "api.test:443:127.0.0.1", "api.test:x:127.0.0.1:1", ":443:127.0.0.1:1", "a:1:b:70000", "a:1:[::1",
            "a:0:b:1", "a:1:b:1:c", "a:1:::1:2", "[::1:1:b:2", "a:+1:b:2",
        ] {
            #expect(throws: ConnectToOverrideError.self) { try ConnectToOverride(parsing: bad) }
        }
    }

    @Test func listenAddress() {
        #expect(ListenAddress(parsing: "0.0.0.0:8080") == ListenAddress(host: "0.0.0.0", port: 8080))
        #expect(ListenAddress(parsing: "[::]:0") == ListenAddress(host: "::", port: 0))
        #expect(ListenAddress(parsing: "8080") == nil)
        #expect(ListenAddress(parsing: "host:") == nil)
        #expect(ListenAddress(parsing: "::1:80") == nil)
    }

    @Test("hop-by-hop headers, those named by Connection, and Proxy-Authorization are removed")
    func hopByHop() {
        var headers = HTTPHeaders([
            ("Connection", "keep-alive, X-Private"), ("X-Private", "1"), ("Keep-Alive", "5"),
            ("Proxy-Authorization", "Basic x"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
            ("Upgrade", "websocket"), ("Accept", "*/*"), ("Content-Length", "3"),
        ])
        HopByHopHeaders.strip(&headers)
        #expect(headers.map { $0.name } == ["Accept", "Content-Length"])
    }

    @Test("upstream request head: origin-form, routed Host first, chunked kept, Expect answered locally")
    func upstreamHead() {
        let client = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "http://api.test/x",
            headers: HTTPHeaders([
                ("Host", "evil.test"), ("Transfer-Encoding", "chunked"), ("Expect", "100-continue"), ("A", "b"),
            ])
        )
        let head = UpstreamRequestBuilder.head(
            from: client,
            originForm: "/x",
            target: UpstreamTarget(host: "api.test", port: 8443, isTLS: true),
            credential: nil
        )
        #expect(head.uri == "/x")
        #expect(head.headers.map { $0.name } == ["host", "A", "transfer-encoding"])
        #expect(head.headers["host"] == ["api.test:8443"])
        #expect(UpstreamRequestBuilder.expectsContinue(client))
    }

    @Test("response framing follows the request method and the client's version")
    func framing() {
        let chunkedUpstream = HTTPResponseHead(
            version: .http1_1,
            status: .ok,
            headers: HTTPHeaders([("Transfer-Encoding", "chunked")])
        )
        let (toModern, close1) = ResponseFraming.clientHead(
            from: chunkedUpstream,
            requestMethod: .GET,
            clientVersion: .http1_1
        )
        #expect(toModern.headers["transfer-encoding"] == ["chunked"])
        #expect(!close1)
        let (toOld, close2) = ResponseFraming.clientHead(
            from: chunkedUpstream,
            requestMethod: .GET,
            clientVersion: .http1_0
        )
        #expect(toOld.headers["transfer-encoding"].isEmpty)
        #expect(close2)
        let (toHead, _) = ResponseFraming.clientHead(
            from: chunkedUpstream,
            requestMethod: .HEAD,
            clientVersion: .http1_1
        )
        #expect(toHead.headers["transfer-encoding"].isEmpty)
        let sized = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders([("Content-Length", "5")]))
        let (kept, _) = ResponseFraming.clientHead(from: sized, requestMethod: .GET, clientVersion: .http1_1)
        #expect(kept.headers["content-length"] == ["5"])
        #expect(kept.headers["transfer-encoding"].isEmpty)
    }
}
