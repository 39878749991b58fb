/// An error from netgen: a profile that cannot be used, an output directory that may not be written, or a
/// failure while issuing certificates or building the genesis block.
///
/// Errors compare equal by ``code``. Profile errors name the key (`peerOrgs[1].mspID`) and, when the profile came
/// from YAML, its line, so a person can fix the file without reading the code.
public struct NetGenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The profile is not valid YAML, has a key netgen does not know, or a value that breaks a rule.
        public static let badProfile = Code("badProfile")
        /// The output directory exists and is not empty, and overwriting was not asked for.
        public static let outputExists = Code("outputExists")
        /// Reading or writing a file failed.
        public static let io = Code("io")
        /// Issuing keys or certificates, or loading the written MSP folders, failed.
        public static let crypto = Code("crypto")
        /// The channel config or genesis block could not be built or does not load.
        public static let channelConfig = Code("channelConfig")
        /// A network.json that does not decode or does not fit its directory.
        public static let badManifest = Code("badManifest")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, and why.
    public var message: String
    /// The profile key the error is about (`batch.timeout`, `peerOrgs[0].peers[1].endpoint`), if any.
    public var key: String?
    /// The line of the YAML profile the key is on (1-based), when known.
    public var line: Int?
    /// The profile file, when the profile was read from one.
    public var profilePath: String?
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var sourceLine: Int

    /// Creates an error; the location is captured from the caller.
    public init(
        _ code: Code,
        _ message: String,
        key: String? = nil,
        line: Int? = nil,
        cause: (any Error)? = nil,
        file: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.key = key
        self.line = line
        self.cause = cause
        self.file = file
        self.sourceLine = sourceLine
    }

    /// A profile error about `key`.
    static func profile(_ key: String, _ message: String, file: String = #fileID, line: Int = #line) -> NetGenError {
        NetGenError(.badProfile, message, key: key, file: file, sourceLine: line)
    }

    /// The message as a person reads it: `profile.yaml:7: key 'batch.timeout': …` for a file, `profile key
    /// 'batch.timeout' (line 7): …` for YAML text.
    public var description: String {
        var text = ""
        if let path = self.profilePath {
            text += self.line.map { "\(path):\($0): " } ?? "\(path): "
            if let key = self.key { text += "key '\(key)': " }
        } else if let key = self.key {
            text += "profile key '\(key)'"
            if let line = self.line { text += " (line \(line))" }
            text += ": "
        }
        text += self.message
        if let cause = self.cause { text += " (\(cause))" }
        return text
    }

    public static func == (lhs: NetGenError, rhs: NetGenError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
