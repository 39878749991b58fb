import Foundation

/// An error from the transient store. Compares equal by ``code``; the message names the tx id, ledger or file.
public struct TransientStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case storageFailure
            case malformedEntry
            case locked
            case noEntries
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// SQLite or the file system failed.
        public static let storageFailure = Code(.storageFailure)
        /// A stored entry does not decode.
        public static let malformedEntry = Code(.malformedEntry)
        /// Another provider (process) holds the store's directory.
        public static let locked = Code(.locked)
        /// The store holds no entries (Fabric's "no entries" for the minimum height).
        public static let noEntries = Code(.noEntries)

        public var description: String { String(describing: self.wrapped) }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "TransientStoreError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: TransientStoreError, rhs: TransientStoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    static func wrapping<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) throws(TransientStoreError) -> T
    {
        do {
            return try body()
        } catch let error as TransientStoreError {
            throw error
        } catch {
            throw TransientStoreError(code: .storageFailure, message: what(), cause: error)
        }
    }
}
