/// An error from the gossip layer: a message that breaks a rule, a failed verification, an unknown peer or channel.
///
/// Errors compare equal by ``code``; the message names the message type, tag, peer (PKI-ID or endpoint) or channel.
public struct GossipError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// Bytes that do not decode, or a message without the content its kind requires.
        public static let malformedMessage = Code("malformedMessage")
        /// A message whose tag is not the one its type requires (§10.3), or an unknown message type.
        public static let illegalTag = Code("illegalTag")
        /// A message that must be signed is not.
        public static let notSigned = Code("notSigned")
        /// A signature does not verify with the identity of the claimed signer.
        public static let badSignature = Code("badSignature")
        /// An identity that does not validate, is expired, or does not match the PKI-ID it was presented with.
        public static let invalidIdentity = Code("invalidIdentity")
        /// No identity is known for a PKI-ID.
        public static let unknownIdentity = Code("unknownIdentity")
        /// The peer's organisation is not allowed for what it asked (channel, block pull, disclosure).
        public static let accessDenied = Code("accessDenied")
        /// A block that does not verify for the channel and sequence it came with.
        public static let badBlock = Code("badBlock")
        /// The channel is not known to this peer.
        public static let unknownChannel = Code("unknownChannel")
        /// The handshake failed: wrong first message, PKI-ID mismatch, TLS binding mismatch, timeout.
        public static let handshakeFailed = Code("handshakeFailed")
        /// A peer could not be reached, or the connection closed.
        public static let unreachable = Code("unreachable")
        /// A message larger than the configured limit.
        public static let tooLarge = Code("tooLarge")
        /// Signing failed.
        public static let signingFailed = Code("signingFailed")
        /// A configuration value that cannot be used.
        public static let badConfiguration = Code("badConfiguration")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the message type, peer or channel.
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
        var text = "GossipError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: GossipError, rhs: GossipError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
