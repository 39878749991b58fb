import Synchronization

/// A signal that fires once and stays fired; any number of tasks may wait for it.
///
/// A waiter returns when the signal fires or when its task is cancelled, whichever comes first, so a task group can
/// race it against a stream without leaking a suspended task.
///
/// `package`: shared by the modules of this package (Deliver, the dev orderer), not part of any public API.
package final class OneShotSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before they registered their continuation.
        var cancelledEarly: Set<Int> = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether the signal has fired.
    package var isFired: Bool { self.state.withLock { $0.fired } }

    /// Fires the signal, resuming every waiter. Firing twice does nothing more.
    package func fire() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the signal has fired, or the calling task is cancelled.
    package func wait() async {
        let id = self.state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.fired || state.cancelledEarly.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                // Not registered yet (or already resumed by `fire`): remember, unless the signal has fired.
                if !state.fired { state.cancelledEarly.insert(id) }
                return nil
            }
            waiter?.resume()
        }
    }
}
