import Glibc

/// The detector ids of the last scan request a decoder read, kept with their bytes on the wire.
///
/// A route sends the same list with every scan: dozens of ids that would otherwise be allocated
/// as strings and freed again for every request (the largest cost of a small scan in the worker).
/// When a request's id section is byte for byte the last one, its ids are the last ones.
struct DetectorIDCache: Sendable {
    private var encoded: [UInt8] = []
    private var ids: [String] = []

    /// The ids encoded by `section` (count field and strings, as on the wire), or `nil` if it is not
    /// the section seen last.
    func ids(encodedAs section: UnsafeRawBufferPointer) -> [String]? {
        guard !encoded.isEmpty, section.count == encoded.count else { return nil }
        // memcmp: elementsEqual compares byte by byte through the generic iterator, which cost more
        // than the rest of a small scan's decoding.
        let same = encoded.withUnsafeBytes { memcmp($0.baseAddress!, section.baseAddress!, section.count) == 0 }
        return same ? ids : nil
    }

    mutating func remember(_ ids: [String], encodedAs section: UnsafeRawBufferPointer) {
        self.ids = ids
        encoded = Array(section)
    }
}
