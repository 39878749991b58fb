public import Foundation
internal import GossipState
public import Ledger
internal import SwiftProtobuf
internal import Wire

/// The private data of replayed blocks: a folder with an `N.pvtdata` file for each block N that has any.
///
/// Each file is a serialized gossip `Payload` as a Fabric peer sends a block with its private data in state
/// transfer, without the block bytes: `seq_num` = N and one `private_data` element per transaction, a marshalled
/// `PvtDataPayload{tx_seq_in_block, payload = TxPvtReadWriteSet}`. A block without a file has no private data.
public struct PrivateDataFiles: Sendable {
    /// The folder.
    public let directory: URL

    /// Reads from `directory`, which must exist.
    public init(directory: URL) throws(BenchError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw BenchError(.workload, "private data folder \(directory.path) does not exist")
        }
        self.directory = directory
    }

    /// The file of block `number`.
    public func url(block number: UInt64) -> URL {
        self.directory.appendingPathComponent("\(number).pvtdata")
    }

    /// The private data of block `number` (empty when it has no file).
    public func privateData(block number: UInt64) throws(BenchError) -> [TxPrivateData] {
        let url = self.url(block: number)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let payload: Gossip_Payload
        do {
            payload = try Gossip_Payload(serializedBytes: try Data(contentsOf: url))
        } catch {
            throw BenchError(.workload, "\(url.path) is not a serialized gossip Payload", cause: error)
        }
        guard payload.seqNum == number else {
            throw BenchError(.workload, "\(url.path) holds the private data of block \(payload.seqNum), not \(number)")
        }
        do {
            return try PrivateDataCodec.decode(payload.privateData, block: number).map {
                TxPrivateData(txIndex: $0.txSeqInBlock, writeSet: $0.writeSet)
            }
        } catch {
            throw BenchError(.workload, "\(url.path): \(error)", cause: error)
        }
    }

    /// Writes the private data of block `number` (what ``privateData(block:)`` reads back).
    public func write(_ privateData: [TxPrivateData], block number: UInt64) throws(BenchError) {
        var payload = Gossip_Payload()
        payload.seqNum = number
        do {
            payload.privateData = try PrivateDataCodec.encode(
                privateData.map { TxPrivateWriteSet(txSeqInBlock: $0.txIndex, writeSet: $0.writeSet) }
            )
            let bytes: Data = try payload.serializedBytes()
            try bytes.write(to: self.url(block: number), options: .atomic)
        } catch {
            throw BenchError(.workload, "cannot write the private data of block \(number)", cause: error)
        }
    }
}
