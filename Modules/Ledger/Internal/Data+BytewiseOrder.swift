package import Foundation

extension Data {
    /// Whether `self` sorts before `other` byte by byte (unsigned), a shorter prefix first: the order of
    /// `lexicographicallyPrecedes` over the bytes, computed with one `memcmp` instead of an iterator per byte
    /// (sorting a block's written keys for the commit hash was spending most of its time in `Data.Iterator`).
    package func bytewisePrecedes(_ other: Data) -> Bool {
        self.withUnsafeBytes { lhs in
            other.withUnsafeBytes { rhs in
                let common = Swift.min(lhs.count, rhs.count)
                if common > 0, let left = lhs.baseAddress, let right = rhs.baseAddress {
                    let order = memcmp(left, right, common)
                    if order != 0 { return order < 0 }
                }
                return lhs.count < rhs.count
            }
        }
    }
}

extension Collection where Element == Data {
    /// The elements in the order of ``Foundation/Data/bytewisePrecedes(_:)``.
    ///
    /// Each element's first 16 bytes are read once, big-endian into two integers (zero-padded), and the sort
    /// compares those; only elements whose first 16 bytes tie are compared in full. The padded prefixes order
    /// like the bytes: where two prefixes differ, either both elements have a byte there, or the shorter one
    /// ran out first, and a shorter prefix sorts first. Sorting a block's written keys for the commit hash
    /// through `memcmp` per comparison cost more than encoding them.
    package func bytewiseSorted() -> [Data] {
        var entries: [(high: UInt64, low: UInt64, bytes: Data)] = []
        entries.reserveCapacity(self.count)
        for bytes in self {
            var prefix = (high: UInt64(0), low: UInt64(0))
            bytes.withUnsafeBytes { raw in
                for (offset, byte) in raw.prefix(16).enumerated() {
                    if offset < 8 {
                        prefix.high |= UInt64(byte) << UInt64(56 - 8 * offset)
                    } else {
                        prefix.low |= UInt64(byte) << UInt64(56 - 8 * (offset - 8))
                    }
                }
            }
            entries.append((prefix.high, prefix.low, bytes))
        }
        entries.sort { lhs, rhs in
            if lhs.high != rhs.high { return lhs.high < rhs.high }
            if lhs.low != rhs.low { return lhs.low < rhs.low }
            return lhs.bytes.bytewisePrecedes(rhs.bytes)
        }
        return entries.map(\.bytes)
    }
}
