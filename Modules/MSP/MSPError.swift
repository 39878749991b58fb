import Foundation

/// An error from identity handling: setup of an MSP, deserialisation, validation, principals, signatures.
///
/// Errors compare equal by ``code``; the message names the MSP, the identity (subject or id) and what failed.
public struct MSPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The MSP configuration cannot be used (no root certs, a root that is not a CA, bad admin, …).
        public static let badConfiguration = Code("badConfiguration")
        /// Bytes that are not a SerializedIdentity, not PEM, or not an X.509 certificate.
        public static let malformedIdentity = Code("malformedIdentity")
        /// PEM with trailing bytes, several blocks, a wrong block type, or a non-canonical signature encoding.
        public static let notWellFormed = Code("notWellFormed")
        /// The identity names an MSP that is not defined (on the channel, or is not this MSP).
        public static let unknownMSP = Code("unknownMSP")
        /// The identity does not chain to the MSP's roots, is a CA, breaks OU rules, or similar.
        public static let invalidIdentity = Code("invalidIdentity")
        /// The identity's certificate is listed in a CRL of its issuer.
        public static let revoked = Code("revoked")
        /// The identity's certificate has expired (enforced by callers such as gossip, not by MSP validation).
        public static let expired = Code("expired")
        /// The identity does not satisfy an MSPPrincipal.
        public static let principalNotSatisfied = Code("principalNotSatisfied")
        /// The principal itself cannot be evaluated (unknown classification, NodeOUs off for a CLIENT role, …).
        public static let badPrincipal = Code("badPrincipal")
        /// A signature does not verify (wrong key, wrong message, malformed DER).
        public static let badSignature = Code("badSignature")
        /// An ECDSA signature whose S is above half the curve order (Fabric accepts only low-S).
        public static let highS = Code("highS")
        /// A key or algorithm this MSP version does not support (RSA; Ed25519 before MSP v3.0).
        public static let unsupportedAlgorithm = Code("unsupportedAlgorithm")
        /// Signing failed, or no signing identity is configured.
        public static let signingFailed = Code("signingFailed")
        /// Reading an MSP folder, a key or a certificate file failed.
        public static let io = Code("io")
        /// OpenSSL reported an internal failure.
        public static let crypto = Code("crypto")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, naming the MSP and identity.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error; the static factory captures the location.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "MSPError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: MSPError, rhs: MSPError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
