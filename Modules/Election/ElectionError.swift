/// An error from leader election setup or messages.
///
/// Errors compare equal by ``code``; the message names the setting or the message at fault.
public struct ElectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// `peer.gossip.useLeaderElection` and `peer.gossip.orgLeader` are both true (Fabric panics at startup).
        public static let conflictingLeaderSettings = Code("conflictingLeaderSettings")
        /// A duration setting that is not positive.
        public static let badConfiguration = Code("badConfiguration")
        /// A message that is not a leadership message of the channel.
        public static let malformedMessage = Code("malformedMessage")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed.
    public var message: String
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error; `file` and `line` capture the location.
    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "ElectionError.\(self.code): \(self.message)" }

    public static func == (lhs: ElectionError, rhs: ElectionError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
