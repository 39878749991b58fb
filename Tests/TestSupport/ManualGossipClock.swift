public import Gossip
internal import Synchronization

/// A ``GossipClock`` whose time moves only when a test says so: ``advance(by:)`` moves it forward and wakes every
/// sleeper whose deadline has passed. Timeouts and periodic work of the shells then happen exactly when the test
/// decides, never because real time went by.
public final class ManualGossipClock: GossipClock, Sendable {
    private struct Sleeper {
        let deadline: GossipInstant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: GossipInstant
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    /// A clock at `start`.
    public init(start: GossipInstant = GossipInstant(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)) {
        self.state = Mutex(State(now: start))
    }

    public var now: GossipInstant { self.state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// How many tasks are sleeping on the clock.
    public var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: GossipInstant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = self.state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume = self.state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resume { continuation.resume() }
            }
        } onCancel: {
            let sleeper = self.state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves time forward by `duration` and wakes the sleepers that are due.
    public func advance(by duration: Duration) {
        let due = self.state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for key in due.keys { state.sleepers[key] = nil }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
