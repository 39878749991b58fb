public import Foundation
internal import SwiftProtobuf
public import Wire

/// A **stand-in** validator for tools and tests, until the real one (signatures, endorsement policies, VSCC,
/// CONFIG application) exists: it takes each block's codes from a reference copy of the chain committed by a
/// Fabric peer (`<directory>/<N>.block`), resetting MVCC_READ_CONFLICT and PHANTOM_READ_CONFLICT to VALID so
/// that the ledger's own MVCC must reproduce them.
///
/// The reference block must have the same header hash as the block being validated.
public struct ReferenceFilterValidator: TransactionValidator {
    /// The folder of reference blocks.
    public let directory: URL

    /// Creates the stand-in over a folder of committed blocks named `N.block`.
    public init(directory: URL) { self.directory = directory }

    public func validate(
        _ block: Common_Block,
        context: any ValidationContext
    ) async throws
        -> [Protos_TxValidationCode]
    {
        let number = block.header.number
        let url = self.directory.appendingPathComponent("\(number).block")
        let reference: Common_Block
        do {
            reference = try Common_Block(serializedBytes: try Data(contentsOf: url))
        } catch {
            throw LedgerError(
                code: .validatorFailure,
                message: "reference block \(url.path) for block \(number) is missing or unreadable",
                cause: error
            )
        }
        guard reference.header.hash == block.header.hash else {
            throw LedgerError(
                code: .validatorFailure,
                message: "reference block \(url.path) is not block \(number) of this chain (header hashes differ)"
            )
        }
        let filter = PeerLedger.filter(of: reference)
        return block.data.data.indices.map { index -> Protos_TxValidationCode in
            guard index < filter.count else { return .valid }
            let code = Protos_TxValidationCode(rawValue: Int(filter[filter.startIndex + index])) ?? .invalidOtherReason
            switch code {
            case .mvccReadConflict, .phantomReadConflict: return .valid
            default: return code
            }
        }
    }
}
