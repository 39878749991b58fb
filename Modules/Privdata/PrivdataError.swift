/// An error from the private-data services: an unknown collection, a policy that does not compile, a block the
/// coordinator cannot read, a commit that failed, a distribution that did not reach enough peers.
///
/// Errors compare equal by ``code``; the message names the channel, block, transaction, namespace or collection.
public struct PrivdataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The namespace has no collection configuration, or the collection is not in it.
        public static let collectionNotFound = Code("collectionNotFound")
        /// A collection configuration that cannot be used (no member-orgs policy, a policy that does not compile).
        public static let badCollectionConfig = Code("badCollectionConfig")
        /// A block without data, header or a TRANSACTIONS_FILTER of the right length.
        public static let invalidBlock = Code("invalidBlock")
        /// The validator failed the block (Fabric halts the chain on it).
        public static let validationFailed = Code("validationFailed")
        /// The ledger refused the commit of a block or of reconciled data.
        public static let commitFailed = Code("commitFailed")
        /// The ledger or the transient store could not be read or written.
        public static let storage = Code("storage")
        /// Private data could not be disseminated to the required number of peers.
        public static let distributionFailed = Code("distributionFailed")
        /// A request, response or pushed message that does not decode or is incomplete.
        public static let malformedMessage = Code("malformedMessage")
        /// A configuration value that cannot be used.
        public static let badConfiguration = Code("badConfiguration")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming what and where.
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
        var text = "PrivdataError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: PrivdataError, rhs: PrivdataError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
