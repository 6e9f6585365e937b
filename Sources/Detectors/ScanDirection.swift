/// Which way traffic flows: secrets are looked for going out, prompt injection coming in.
public enum ScanDirection: UInt8, Sendable, Equatable, CaseIterable {
    case outbound = 0
    case inbound = 1
}
