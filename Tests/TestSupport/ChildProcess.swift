public import Foundation
import Synchronization

/// A child process that tests can await without blocking a thread of the cooperative pool.
///
/// `Process.waitUntilExit()` blocks its thread; in a test suite running many suites concurrently on a 2-core
/// machine, two such waits starve every other test's tasks. This wrapper registers the termination handler
/// before starting the process and resumes awaiting tasks from it.
public final class ChildProcess: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// The underlying process (configure output handles before ``start()``).
    public let process: Process
    private let state = Mutex(State())

    /// A process running `executable` with `arguments`, output discarded.
    public init(executable: URL, arguments: [String]) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        self.process = process
    }

    /// Starts the process.
    public func start() throws {
        self.process.terminationHandler = { [weak self] process in
            guard let self else { return }
            let status = process.terminationStatus
            let waiters = self.state.withLock { state -> [CheckedContinuation<Int32, Never>] in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try self.process.run()
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { self.state.withLock { $0.status == nil } }

    /// Sends `signal` (SIGKILL by default) if the process still runs.
    public func kill(_ signal: Int32 = SIGKILL) {
        if self.isRunning { Foundation.kill(self.process.processIdentifier, signal) }
    }

    /// Waits for the process to exit and returns its termination status.
    public func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = self.state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}
