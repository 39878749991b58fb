import Foundation

/// An error from the ledger: storing, reading, validating or committing blocks and private data.
///
/// Errors compare equal by ``code`` only; the message names the input that was wrong (block number, tx index,
/// file and offset, ledger id).
public struct LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case blockNumberMismatch
            case previousHashMismatch
            case dataHashMismatch
            case malformedBlock
            case corruptBlockFile
            case storageFailure
            case ledgerExists
            case ledgerNotFound
            case invalidValidationCodes
            case privateDataMismatch
            case privateDataOutOfOrder
            case inconsistentStorage
            case validatorFailure
            case invalidArgument
            case closed
            case validationHalted
            case stateReadFailed
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A block's number is not the ledger's current height.
        public static let blockNumberMismatch = Code(.blockNumberMismatch)
        /// A block's `previous_hash` is not the hash of the last block's header.
        public static let previousHashMismatch = Code(.previousHashMismatch)
        /// A block's `data_hash` is not the hash of its data.
        public static let dataHashMismatch = Code(.dataHashMismatch)
        /// A block (or a transaction the validator marked VALID) does not decode.
        public static let malformedBlock = Code(.malformedBlock)
        /// A block file holds a damaged record that is not the torn tail of an interrupted append.
        public static let corruptBlockFile = Code(.corruptBlockFile)
        /// SQLite or the file system failed.
        public static let storageFailure = Code(.storageFailure)
        /// A ledger with this id already exists.
        public static let ledgerExists = Code(.ledgerExists)
        /// No ledger with this id exists.
        public static let ledgerNotFound = Code(.ledgerNotFound)
        /// The validator returned the wrong number of codes, or left a tx NOT_VALIDATED.
        public static let invalidValidationCodes = Code(.invalidValidationCodes)
        /// Private data whose hash does not match the hash in the block.
        public static let privateDataMismatch = Code(.privateDataMismatch)
        /// Private data for a block other than the next one.
        public static let privateDataOutOfOrder = Code(.privateDataOutOfOrder)
        /// The stores disagree in a way recovery cannot repair (for example state ahead of the block files).
        public static let inconsistentStorage = Code(.inconsistentStorage)
        /// The transaction validator failed for the whole block.
        public static let validatorFailure = Code(.validatorFailure)
        /// An argument outside what the ledger accepts.
        public static let invalidArgument = Code(.invalidArgument)
        /// The ledger was closed.
        public static let closed = Code(.closed)
        /// Validation could not complete for the block (a validation plugin is unknown, a chaincode definition
        /// or validation parameter in state is unreadable, a config transaction could not be applied): the block
        /// must not be committed, as a Fabric peer stops processing the chain.
        public static let validationHalted = Code(.validationHalted)
        /// Reading committed state for validation failed.
        public static let stateReadFailed = Code(.stateReadFailed)

        public var description: String { String(describing: self.wrapped) }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the block, tx, file or ledger.
    public var message: String
    /// The error that caused this one, if any.
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

    /// Creates an error with `code` and `message`; the location is captured from the caller.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.init(code: code, message: message, cause: cause, file: file, line: line)
    }

    public var description: String {
        var text = "LedgerError.\(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension LedgerError {
    /// SQLite or the file system failed while doing `what`.
    package static func storage(
        _ what: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> LedgerError {
        LedgerError(code: .storageFailure, message: what, cause: cause, file: file, line: line)
    }

    /// Runs `body`, turning any error that is not already a ``LedgerError`` into a storage failure naming `what`.
    package static func wrapping<T>(
        _ what: @autoclosure () -> String,
        _ body: () throws -> T
    ) throws(LedgerError)
        -> T
    {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.storage(what(), cause: error)
        }
    }
}
