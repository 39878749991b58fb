/// An error from the deliver client: starting or stopping delivery for a channel, building a seek request, talking
/// to an orderer, or a block that fails verification or hand-off.
///
/// Errors compare equal by ``code``; the message names the channel, the orderer endpoint and the block number
/// involved.
public struct DeliverError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The service (or the channel's delivery) is stopping or stopped and cannot start again.
        public static let stopping = Code("stopping")
        /// Delivery for the channel is already running.
        public static let alreadyRunning = Code("alreadyRunning")
        /// Delivery for the channel is not running.
        public static let notRunning = Code("notRunning")
        /// The channel config cannot be used for delivery: no orderer section, an unsupported consensus type, or a
        /// config block that does not yield a config for this channel.
        public static let badConfig = Code("badConfig")
        /// The ledger cannot serve delivery: its height is 0, or reading it failed.
        public static let ledger = Code("ledger")
        /// The signed seek request could not be built (signing failed, encoding failed).
        public static let seekRequest = Code("seekRequest")
        /// The orderer endpoint could not be reached, the stream failed, or the orderer ended it.
        public static let connection = Code("connection")
        /// The orderer answered with a status instead of a block (the seek never completes, so any status counts).
        public static let badStatus = Code("badStatus")
        /// A block failed verification (signature, number, previous hash, data hash, malformed data).
        public static let badBlock = Code("badBlock")
        /// The block handler refused a verified block.
        public static let handoff = Code("handoff")
        /// A TLS setting (client certificate, key or CA file) cannot be used.
        public static let tls = Code("tls")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the channel, endpoint and block.
    public var message: String
    /// The underlying error (a `ChannelConfigError`, `RPCError`, …), if any.
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
        var text = "DeliverError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: DeliverError, rhs: DeliverError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
