/// An error of the development orderer: its configuration, its storage, a channel's genesis block, or a block it
/// could not write.
///
/// Errors compare equal by ``code``; the message names the channel, block number or file involved. Requests that a
/// client gets wrong (a malformed envelope, an unauthorised creator) are not errors of this type: they are answered
/// with a Fabric status code (see ``BroadcastResult`` and the Deliver handler).
public struct DevOrdererError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The configuration cannot be used (listen address, TLS material, signing identity, directories).
        public static let badConfiguration = Code("badConfiguration")
        /// A genesis block is not a config block, or its config does not build a channel an orderer can serve.
        public static let badGenesisBlock = Code("badGenesisBlock")
        /// A channel with this id exists with another genesis block.
        public static let channelConflict = Code("channelConflict")
        /// The block store of a channel could not be opened, read or appended to.
        public static let storage = Code("storage")
        /// A block could not be assembled or signed.
        public static let blockWriting = Code("blockWriting")
        /// The orderer is stopped.
        public static let stopped = Code("stopped")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the channel, block or file.
    public var message: String
    /// The underlying error (a `LedgerError`, `ChannelConfigError`, `MSPError`, …), if any.
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
        var text = "DevOrdererError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: DevOrdererError, rhs: DevOrdererError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
