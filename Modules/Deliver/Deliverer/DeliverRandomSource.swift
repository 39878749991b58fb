public import Foundation

/// Where the deliverer's randomness comes from: the choice of orderer endpoint and the seek request's nonce.
/// Injected so tests are deterministic.
public protocol DeliverRandomSource: Sendable {
    /// A uniformly distributed integer in `0..<upperBound` (`upperBound` > 0).
    func nextIndex(below upperBound: Int) -> Int
    /// `count` random bytes.
    func bytes(count: Int) -> Data
}

/// The system's cryptographically secure generator.
public struct SystemDeliverRandomSource: DeliverRandomSource {
    /// Creates the source.
    public init() {}

    public func nextIndex(below upperBound: Int) -> Int {
        var generator = SystemRandomNumberGenerator()
        return Int.random(in: 0..<upperBound, using: &generator)
    }

    public func bytes(count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
