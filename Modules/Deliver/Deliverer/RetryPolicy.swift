import Foundation

/// Fabric's CFT deliverer reconnection rules as a pure state machine: how long to sleep before the next attempt,
/// when to give up, and what a success or a failure does to the counters. No clock, no I/O.
///
/// - Before an attempt, with `failures > 0`: sleep ⌊1.2^(failures−1) × 100⌋ ms, or ``maxRetryInterval`` once
///   `failures − 1` exceeds ⌊ln(maxRetryInterval / 100 ms) / ln 1.2⌋ (57 for 1 h). The sleep is added to the total
///   first; when the total exceeds ``maxRetryDuration`` a deliverer that may yield gives up, while a static leader
///   logs and keeps going.
/// - A failure (no endpoint, dial or stream error, a status, a bad block, a failed hand-off, the stream ending)
///   adds one to `failures`; an accepted block resets `failures` and the total sleep; an endpoint refresh changes
///   nothing (the next attempt follows at once).
public struct RetryPolicy: Sendable, Hashable {
    /// What to do before the next connection attempt.
    public enum Step: Sendable, Hashable {
        /// Connect now.
        case connect
        /// Sleep, then connect. `overThreshold` is set when the total sleep has passed the threshold but the
        /// deliverer keeps going (static leader).
        case sleep(Duration, overThreshold: Bool)
        /// The total sleep passed the threshold: stop delivering (and yield leadership).
        case giveUp(totalSleep: Duration)
    }

    /// The base of the exponential backoff.
    public static let backoffBase = 1.2
    /// The first sleep.
    public static let initialRetryDelay: Duration = .milliseconds(100)

    /// The longest single sleep (`reConnectBackoffThreshold`).
    public let maxRetryInterval: Duration
    /// The total sleep after which a yielding deliverer gives up (`reconnectTotalTimeThreshold`).
    public let maxRetryDuration: Duration
    /// Whether the deliverer gives up (an elected leader) or retries for ever (a static org leader).
    public let yieldsOnGiveUp: Bool
    /// The failure count beyond which the sleep is ``maxRetryInterval``.
    public let maxFailures: Int

    /// Consecutive failures since the last accepted block.
    public private(set) var failures = 0
    /// Sleep accumulated since the last accepted block.
    public private(set) var totalSleep: Duration = .zero

    /// Creates the policy.
    public init(maxRetryInterval: Duration, maxRetryDuration: Duration, yieldsOnGiveUp: Bool) {
        self.maxRetryInterval = maxRetryInterval
        self.maxRetryDuration = maxRetryDuration
        self.yieldsOnGiveUp = yieldsOnGiveUp
        let ratio = Self.seconds(maxRetryInterval) / Self.seconds(Self.initialRetryDelay)
        let exponent = ratio > 0 ? (log(ratio) / log(Self.backoffBase)).rounded(.towardZero) : 0
        self.maxFailures = exponent.isFinite ? Int(max(exponent, -1)) : Int.max
    }

    /// The sleep before the attempt that follows `failures` consecutive failures (`failures` > 0).
    public func sleep(afterFailures failures: Int) -> Duration {
        if failures - 1 > self.maxFailures { return self.maxRetryInterval }
        let milliseconds = (pow(Self.backoffBase, Double(failures - 1)) * 100).rounded(.towardZero)
        return .milliseconds(Int64(milliseconds))
    }

    /// Decides what happens before the next attempt, accounting the sleep it returns.
    public mutating func nextStep() -> Step {
        guard self.failures > 0 else { return .connect }
        let sleep = self.sleep(afterFailures: self.failures)
        self.totalSleep += sleep
        if self.totalSleep > self.maxRetryDuration {
            if self.yieldsOnGiveUp { return .giveUp(totalSleep: self.totalSleep) }
            return .sleep(sleep, overThreshold: true)
        }
        return .sleep(sleep, overThreshold: false)
    }

    /// Records a failed attempt or connection.
    public mutating func recordFailure() { self.failures += 1 }

    /// Records an accepted block.
    public mutating func recordSuccess() {
        self.failures = 0
        self.totalSleep = .zero
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
