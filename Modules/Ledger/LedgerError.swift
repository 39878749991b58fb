/// An error from the ledger: storage, validation or commit.
///
/// Errors compare equal by ``code``; the message names the channel, block and transaction involved.
public struct LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// Validation could not complete for the block (a validation plugin failed to run, chaincode info could
        /// not be read, a config transaction could not be applied): the block must not be committed.
        public static let validationHalted = Code("validationHalted")
        /// Reading state failed.
        public static let stateReadFailed = Code("stateReadFailed")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming channel, block and tx.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error; the location is captured from the caller.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "LedgerError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
