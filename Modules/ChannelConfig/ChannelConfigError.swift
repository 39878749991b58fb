/// An error from building, validating or updating a channel configuration, or from evaluating a policy.
///
/// Errors compare equal by ``code``; the message names the config path (`/Channel/Orderer/BatchSize`), the policy
/// or the capability involved.
public struct ChannelConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The config tree has the wrong shape: a disallowed group, sub-groups where none are allowed, a nil group.
        public static let badStructure = Code("badStructure")
        /// A value key the section does not define.
        public static let unexpectedKey = Code("unexpectedKey")
        /// A value's bytes do not decode as its message type.
        public static let malformedValue = Code("malformedValue")
        /// A value decodes but breaks a rule (batch size 0, unknown hashing algorithm, global orderer addresses
        /// under V3_0, …).
        public static let invalidValue = Code("invalidValue")
        /// A capability name that this peer does not know.
        public static let unsupportedCapability = Code("unsupportedCapability")
        /// An organisation's MSP could not be set up, or two definitions of one MSP id differ.
        public static let badMSP = Code("badMSP")
        /// A policy does not compile (unknown type, bad envelope version, index out of range, …).
        public static let badPolicy = Code("badPolicy")
        /// A policy was evaluated and not satisfied.
        public static let policyNotSatisfied = Code("policyNotSatisfied")
        /// A policy name that does not resolve.
        public static let policyNotFound = Code("policyNotFound")
        /// A config update's sequence is not current + 1.
        public static let wrongSequence = Code("wrongSequence")
        /// A config update is for another channel, or a channel id is illegal.
        public static let wrongChannel = Code("wrongChannel")
        /// A config update whose read set does not match, whose delta is empty, or whose element versions are wrong.
        public static let invalidUpdate = Code("invalidUpdate")
        /// A config update that does not produce the config it claims.
        public static let configMismatch = Code("configMismatch")
        /// A new config that may not replace the current one (section removed, MSP id changed, …).
        public static let invalidTransition = Code("invalidTransition")
        /// A block that does not fit the chain: wrong number, previous hash or data hash, malformed data.
        public static let badBlock = Code("badBlock")
        /// A block whose orderer signatures do not satisfy the channel's BlockValidation policy.
        public static let badBlockSignature = Code("badBlockSignature")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the config path, policy or capability.
    public var message: String
    /// The underlying error (an `MSPError`, `WireError`, …), if any.
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
        var text = "ChannelConfigError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: ChannelConfigError, rhs: ChannelConfigError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
