public import Foundation
import Synchronization

/// A child process of the local network (orderer or peer) with its output in a log file, awaited without blocking a
/// thread, stopped with SIGTERM (graceful) or SIGKILL.
public final class ManagedProcess: Sendable {
    /// A name for messages.
    public let name: String
    /// The log file (standard output and error).
    public let log: URL
    private let process: Process
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Prepares `executable arguments` with output appended to `log`.
    public init(name: String, executable: URL, arguments: [String], log: URL, environment: [String: String] = [:]) {
        self.name = name
        self.log = log
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        self.process = process
    }

    /// Starts the process.
    public func start() throws {
        _ = FileManager.default.createFile(atPath: self.log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: self.log)
        try handle.seekToEnd()
        self.process.standardOutput = handle
        self.process.standardError = handle
        self.process.standardInput = FileHandle.nullDevice
        self.process.terminationHandler = { [weak self] process in
            guard let self else { return }
            let status = process.terminationStatus
            let waiters = self.state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try self.process.run()
    }

    /// The process id.
    public var pid: Int32 { self.process.processIdentifier }

    /// Whether it still runs.
    public var isRunning: Bool { self.state.withLock { $0.status == nil } }

    /// Sends `signal` if it still runs.
    public func signal(_ signal: Int32) {
        if self.isRunning { kill(self.process.processIdentifier, signal) }
    }

    /// Waits for the exit status.
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

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(20)) async -> Int32 {
        self.signal(SIGTERM)
        let killer = Task {
            try await Task.sleep(for: grace)
            self.signal(SIGKILL)
        }
        let status = await self.wait()
        killer.cancel()
        return status
    }

    /// The lines of the log so far.
    public func logText() -> String {
        (try? String(contentsOf: self.log, encoding: .utf8)) ?? ""
    }
}
