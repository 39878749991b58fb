import Synchronization

/// A `Clock` for tests of retry and backoff logic: every sleep returns at once (after a `Task.yield`), advances the
/// clock's time by the requested duration and is recorded, so a schedule of hours runs in microseconds.
///
/// After `pauseAfter` sleeps, further sleeps suspend until their task is cancelled, which stops a loop that would
/// otherwise retry for ever at a known point.
public final class InstantClock: Clock, Sendable {
    /// A point on the clock's time line.
    public struct Instant: InstantProtocol, Hashable, Sendable {
        /// Time since the clock was made.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: self.offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - self.offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleeps: [Duration] = []
    }

    private let state = Mutex(State())
    private let pauseAfter: Int?

    /// A clock at time zero; sleeps beyond the `pauseAfter`-th one suspend until cancelled.
    public init(pauseAfter: Int? = nil) { self.pauseAfter = pauseAfter }

    public var now: Instant { self.state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// Every sleep so far, in order.
    public var sleeps: [Duration] { self.state.withLock { $0.sleeps } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let count = self.state.withLock { state -> Int in
            state.sleeps.append(state.now.duration(to: deadline))
            if deadline > state.now { state.now = deadline }
            return state.sleeps.count
        }
        if let pauseAfter = self.pauseAfter, count > pauseAfter {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        await Task.yield()
        try Task.checkCancellation()
    }

    /// Waits (polling in real time, at most `timeout`) until at least `count` sleeps were requested.
    public func waitForSleeps(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        let limit = ContinuousClock.now.advanced(by: timeout)
        while self.sleeps.count < count {
            guard ContinuousClock.now < limit else { return }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
