import Foundation
import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal (so `--json` output
/// and logs piped to a file stay clean). Redraws at most ten times a second.
public final class ProgressBar: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var lastPhase = ""
        var drawn = false
    }

    private let enabled: Bool
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// A bar that draws when standard error is a terminal and `enabled` is true.
    public init(enabled: Bool = true) {
        self.enabled = enabled && isatty(2) == 1
    }

    /// Shows `done` of `total` in `phase`.
    public func update(_ phase: String, _ done: Int, _ total: Int) {
        guard self.enabled else { return }
        let now = self.clock.now
        let line: String? = self.state.withLock { state in
            let phaseChanged = state.lastPhase != phase
            if !phaseChanged, done < total, let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            state.lastPhase = phase
            state.drawn = true
            let width = 30
            let filled = total > 0 ? min(width, done * width / total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let prefix = phaseChanged ? "\r\u{1B}[K" : "\r"
            return "\(prefix)\(phase) [\(bar)] \(done)/\(total)"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Clears the line.
    public func finish() {
        guard self.enabled, self.state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
