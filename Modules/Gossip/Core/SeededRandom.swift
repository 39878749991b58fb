/// A small, fast, seedable random number generator (SplitMix64), so that every random choice of the gossip and
/// election state machines (peer selection, nonces) is reproducible in tests and simulations.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { self.state = seed }

    /// A generator seeded from the system's random source.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.state = system.next()
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A non-zero random nonce.
    public mutating func nonce() -> UInt64 {
        while true {
            let value = self.next()
            if value != 0 { return value }
        }
    }

    /// Up to `count` elements of `candidates`, chosen uniformly without repetition (order of `candidates` matters
    /// for reproducibility, so callers pass them in a stable order).
    public mutating func choose<Element>(_ count: Int, from candidates: [Element]) -> [Element] {
        guard count < candidates.count else { return candidates }
        var pool = candidates
        var chosen: [Element] = []
        chosen.reserveCapacity(count)
        for _ in 0..<count {
            let index = Int(self.next() % UInt64(pool.count))
            chosen.append(pool.remove(at: index))
        }
        return chosen
    }
}
