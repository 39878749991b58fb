public import Foundation

/// A point in wall-clock time as the gossip and election state machines see it: nanoseconds since the Unix epoch.
///
/// Wall-clock rather than monotonic because the same numbers go on the wire (alive `inc_num` is the start time in
/// nanoseconds, StateInfo `seq_num` is "now" in nanoseconds) and are compared with certificate expiry dates. The
/// state machines never read a clock: every transition is handed `now`, so tests drive them with virtual time.
public struct GossipInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanosecondsSinceEpoch: Int64

    /// Creates an instant from nanoseconds since the epoch.
    public init(nanosecondsSinceEpoch: Int64) { self.nanosecondsSinceEpoch = nanosecondsSinceEpoch }

    /// The instant of `date`.
    public init(_ date: Date) {
        self.nanosecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1_000_000_000).rounded())
    }

    /// The instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(self.nanosecondsSinceEpoch) / 1_000_000_000) }

    /// The nanoseconds as an unsigned wire value (0 before the epoch).
    public var wireNanoseconds: UInt64 { UInt64(max(0, self.nanosecondsSinceEpoch)) }

    public func advanced(by duration: Duration) -> GossipInstant {
        GossipInstant(nanosecondsSinceEpoch: self.nanosecondsSinceEpoch &+ duration.nanoseconds)
    }

    public func duration(to other: GossipInstant) -> Duration {
        .nanoseconds(other.nanosecondsSinceEpoch &- self.nanosecondsSinceEpoch)
    }

    public static func < (lhs: GossipInstant, rhs: GossipInstant) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public var description: String { "t+\(Double(self.nanosecondsSinceEpoch) / 1e9)s" }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole &+ attoseconds / 1_000_000_000
    }

    /// `self` divided by an integer, rounding towards zero.
    public func divided(by divisor: Int) -> Duration { .nanoseconds(self.nanoseconds / Int64(divisor)) }
}

/// A clock whose instants are ``GossipInstant``s: the wall clock in production, a manual clock in tests.
public protocol GossipClock: Clock where Instant == GossipInstant, Duration == Swift.Duration {}

/// The system wall clock; sleeps run on the continuous clock for the same duration.
public struct WallClock: GossipClock {
    /// Creates the clock.
    public init() {}

    public var now: GossipInstant { GossipInstant(Date()) }

    public var minimumResolution: Duration { .microseconds(1) }

    public func sleep(until deadline: GossipInstant, tolerance: Duration?) async throws {
        let remaining = self.now.duration(to: deadline)
        if remaining > .zero {
            try await ContinuousClock().sleep(for: remaining, tolerance: tolerance)
        } else {
            try Task.checkCancellation()
        }
    }
}
