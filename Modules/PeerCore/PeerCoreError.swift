/// An error from the peer's core: configuration, joining and serving channels, the admin service.
///
/// Errors compare equal by ``code``; the message names the key, channel or file involved and what to do.
public struct PeerCoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// A configuration key holds a value of the wrong type or out of range, or a file cannot be read.
        public static let badConfiguration = Code("badConfiguration")
        /// The channel is not joined on this peer.
        public static let channelNotFound = Code("channelNotFound")
        /// The channel is already joined.
        public static let channelExists = Code("channelExists")
        /// The channel's config cannot be served by this peer (no application section, unsupported capability).
        public static let unsupportedChannel = Code("unsupportedChannel")
        /// A genesis or config block is malformed.
        public static let badBlock = Code("badBlock")
        /// The local MSP or TLS material cannot be loaded.
        public static let badIdentity = Code("badIdentity")
        /// The peer is not running or is shutting down.
        public static let unavailable = Code("unavailable")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the key, channel or file.
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
        var text = "PeerCoreError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: PeerCoreError, rhs: PeerCoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
