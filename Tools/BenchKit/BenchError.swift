import Foundation

/// What went wrong in a benchmark: the workload could not be generated, the ledger refused a block, or the
/// codes the ledger gave differ from what the workload intended (a correctness failure, never a figure).
public struct BenchError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The options make no workload (for example a fraction outside 0…1).
        public static let badOptions = Code(name: "badOptions")
        /// The workload could not be generated or read back.
        public static let workload = Code(name: "workload")
        /// The ledger failed to commit a block.
        public static let commit = Code(name: "commit")
        /// A transaction's committed code differs from the code the workload intended.
        public static let codeMismatch = Code(name: "codeMismatch")
        /// The signature ceiling could not be measured.
        public static let ceiling = Code(name: "ceiling")

        public var description: String { self.name }
    }

    /// The kind.
    public var code: Code
    /// What was wrong, with the block, transaction or file it concerns.
    public var message: String
    /// The underlying error.
    public var cause: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(self.message): \(cause)" }
        return self.message
    }
}

extension BenchError: Equatable {
    /// Equality by code.
    public static func == (lhs: BenchError, rhs: BenchError) -> Bool { lhs.code == rhs.code }
}
