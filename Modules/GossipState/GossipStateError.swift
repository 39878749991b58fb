/// An error from state transfer: a payload the buffer refuses, a bad state request or response, a requester
/// outside the channel's Readers, a commit that failed, or a provider that stopped.
///
/// Errors compare equal by ``code``; the message names the channel, block number or peer.
public struct GossipStateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// A non-blocking payload too far ahead of the ledger height (seq − height ≥ blockBufferSize), or one
        /// below it.
        public static let tooFarAhead = Code("tooFarAhead")
        /// The buffer is at capacity and the payload was offered without waiting.
        public static let bufferFull = Code("bufferFull")
        /// A state request whose range is empty, reversed or wider than the batch size.
        public static let badRequest = Code("badRequest")
        /// A state response that is empty, out of the requested range, holds too many or duplicate payloads, or
        /// blocks that do not verify.
        public static let badResponse = Code("badResponse")
        /// The requester does not satisfy the channel's Readers policy.
        public static let accessDenied = Code("accessDenied")
        /// A payload whose block or private data does not decode.
        public static let malformedPayload = Code("malformedPayload")
        /// The ledger could not be read (height, block).
        public static let ledger = Code("ledger")
        /// The coordinator failed to commit a block; the commit loop halted on it.
        public static let commitHalted = Code("commitHalted")
        /// The provider was stopped.
        public static let stopped = Code("stopped")
        /// A configuration value that cannot be used.
        public static let badConfiguration = Code("badConfiguration")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the channel, block number or peer.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error; `file` and `line` capture the location.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "GossipStateError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: GossipStateError, rhs: GossipStateError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
