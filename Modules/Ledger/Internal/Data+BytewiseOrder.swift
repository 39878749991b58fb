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
