import Foundation

/// An error from decoding, unpacking or encoding Fabric wire data.
///
/// Errors compare equal by ``code`` only, so tests and callers can match the kind of failure while the message
/// carries the detail: which layer of a transaction failed to decode, which field, which block or tx.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case malformedMessage
            case missingField
            case unexpectedValue
            case nonCanonicalEncoding
            case compressionFailed
            case decompressedTooLarge
            case corruptCompressedData
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// Bytes that do not decode as the protobuf message the layer expects.
        public static let malformedMessage = Code(.malformedMessage)
        /// A field that the layer needs is absent or empty.
        public static let missingField = Code(.missingField)
        /// A field decoded but holds a value the layer cannot accept (wrong header type, several actions, …).
        public static let unexpectedValue = Code(.unexpectedValue)
        /// A message that decodes but does not re-encode to the same bytes (trailing bytes, unknown fields, …).
        public static let nonCanonicalEncoding = Code(.nonCanonicalEncoding)
        /// zlib refused to compress.
        public static let compressionFailed = Code(.compressionFailed)
        /// Decompressing would exceed the caller's size limit.
        public static let decompressedTooLarge = Code(.decompressedTooLarge)
        /// The compressed stream is damaged or truncated.
        public static let corruptCompressedData = Code(.corruptCompressedData)

        public var description: String { String(describing: self.wrapped) }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the layer and field (and block or tx where known).
    public var message: String
    /// The error that caused this one, if any (for example SwiftProtobuf's decoding error).
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error; prefer the static factories, which capture the location.
    public init(code: Code, message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "WireError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: WireError, rhs: WireError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension WireError {
    /// `layer` did not decode; `field` names where its bytes came from.
    public static func malformed(
        _ layer: String,
        field: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> WireError {
        WireError(
            code: .malformedMessage,
            message: "\(field) does not decode as \(layer)",
            cause: cause,
            file: file,
            line: line
        )
    }

    /// `field` of `layer` is absent or empty.
    public static func missing(_ layer: String, field: String, file: String = #fileID, line: Int = #line) -> WireError {
        WireError(code: .missingField, message: "\(layer).\(field) is missing or empty", file: file, line: line)
    }

    /// `field` of `layer` holds a value that cannot be accepted.
    public static func unexpected(
        _ layer: String,
        field: String,
        _ detail: String,
        file: String = #fileID,
        line: Int = #line
    ) -> WireError {
        WireError(code: .unexpectedValue, message: "\(layer).\(field): \(detail)", file: file, line: line)
    }
}
