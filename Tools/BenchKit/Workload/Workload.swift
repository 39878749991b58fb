public import Foundation
public import Ledger
public import NetGen
import SwiftProtobuf
public import Wire

/// A generated workload on disk: the netgen network, every block as the orderer delivers it (`blocks/N.block`),
/// the cleartext private data of each block (`private/N.pvt`) and the codes each transaction must get
/// (`expected/N.codes`, one byte per transaction).
///
/// Block 0 is the genesis block, block 1 defines chaincode `basic` in `_lifecycle` (a transaction endorsed as
/// the LifecycleEndorsement policy requires), blocks 2… are the workload. Nothing is kept in memory: the commit
/// phase reads one block at a time, so the committing process's memory reflects the peer, not the workload.
public struct Workload: Sendable {
    /// The channel every workload uses.
    public static let channelID = "benchchannel"
    /// The chaincode the workload transactions invoke.
    public static let chaincode = "basic"
    /// The private data collection of `basic`.
    public static let collection = "pvt"
    /// The first workload block (0 is the genesis block, 1 the chaincode definition).
    public static let firstWorkloadBlock: UInt64 = 2

    /// The workload's root folder.
    public let directory: URL
    /// The options it was generated with.
    public let options: WorkloadOptions
    /// The network (`network/network.json`).
    public let manifest: NetworkManifest

    /// Creates the description of a workload generated into `directory`.
    public init(directory: URL, options: WorkloadOptions, manifest: NetworkManifest) {
        self.directory = directory
        self.options = options
        self.manifest = manifest
    }

    /// The netgen output folder.
    public var networkDirectory: URL { self.directory.appendingPathComponent("network") }
    /// The folder of raw blocks `N.block` (what `bench replay --blocks` reads).
    public var blocksDirectory: URL { self.directory.appendingPathComponent("blocks") }
    var privateDirectory: URL { self.directory.appendingPathComponent("private") }
    var expectedDirectory: URL { self.directory.appendingPathComponent("expected") }
    /// The channel's genesis block file.
    public var genesisBlockURL: URL { NetworkManifest.url(self.manifest.genesisBlock, in: self.networkDirectory) }

    /// The last block number.
    public var lastBlock: UInt64 { Self.firstWorkloadBlock + UInt64(self.options.blocks) - 1 }

    /// The blocks committed in the timed part.
    public var workloadBlocks: ClosedRange<UInt64> { Self.firstWorkloadBlock...self.lastBlock }

    /// The genesis block.
    public func genesisBlock() throws(BenchError) -> Common_Block {
        try Self.decodeBlock(try Self.read(self.genesisBlockURL))
    }

    /// The raw bytes of block `number`.
    public func blockBytes(_ number: UInt64) throws(BenchError) -> Data {
        if number == 0 { return try Self.read(self.genesisBlockURL) }
        return try Self.read(self.blocksDirectory.appendingPathComponent("\(number).block"))
    }

    /// Block `number`.
    public func block(_ number: UInt64) throws(BenchError) -> Common_Block {
        try Self.decodeBlock(try self.blockBytes(number))
    }

    /// The cleartext private data of block `number`'s transactions that wrote some.
    public func privateData(_ number: UInt64) throws(BenchError) -> [TxPrivateData] {
        let url = self.privateDirectory.appendingPathComponent("\(number).pvt")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try PrivateDataFile.decode(try Self.read(url), what: url.path)
    }

    /// The codes the workload intends for block `number`.
    public func expectedCodes(_ number: UInt64) throws(BenchError) -> [Protos_TxValidationCode] {
        let bytes = try Self.read(self.expectedDirectory.appendingPathComponent("\(number).codes"))
        return bytes.map { Protos_TxValidationCode(rawValue: Int($0)) ?? .invalidOtherReason }
    }

    /// Bytes of the block files of the workload blocks (what the orderer delivered, before the peer's metadata).
    public func deliveredBytes() -> Int64 {
        DiskUsage.bytes(under: self.blocksDirectory)
    }

    static func read(_ url: URL) throws(BenchError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw BenchError(.workload, "cannot read \(url.path)", cause: error)
        }
    }

    static func decodeBlock(_ bytes: Data) throws(BenchError) -> Common_Block {
        do {
            return try Common_Block(serializedBytes: bytes)
        } catch {
            throw BenchError(.workload, "a workload block does not decode", cause: error)
        }
    }
}

/// `private/N.pvt`: for each transaction with private data, `UInt64 LE tx index ‖ UInt32 LE length ‖ marshalled
/// rwset.TxPvtReadWriteSet`.
enum PrivateDataFile {
    static func encode(_ items: [TxPrivateData]) throws(BenchError) -> Data {
        var out = Data()
        for item in items {
            let bytes: Data
            do {
                bytes = try item.writeSet.serializedBytes()
            } catch {
                throw BenchError(.workload, "private data of tx \(item.txIndex) does not encode", cause: error)
            }
            withUnsafeBytes(of: item.txIndex.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(bytes)
        }
        return out
    }

    static func decode(_ data: Data, what: String) throws(BenchError) -> [TxPrivateData] {
        var items: [TxPrivateData] = []
        let bytes = [UInt8](data)
        var position = 0
        func integer(_ width: Int) throws(BenchError) -> UInt64 {
            guard position + width <= bytes.count else { throw BenchError(.workload, "\(what) is cut short") }
            var value: UInt64 = 0
            for shift in 0..<width { value |= UInt64(bytes[position + shift]) << (8 * UInt64(shift)) }
            position += width
            return value
        }
        while position < bytes.count {
            let index = try integer(8)
            let length = Int(try integer(4))
            guard position + length <= bytes.count else { throw BenchError(.workload, "\(what) is cut short") }
            do {
                let writeSet = try Rwset_TxPvtReadWriteSet(serializedBytes: Data(bytes[position..<position + length]))
                items.append(TxPrivateData(txIndex: index, writeSet: writeSet))
            } catch {
                throw BenchError(.workload, "\(what): private data of tx \(index) does not decode", cause: error)
            }
            position += length
        }
        return items
    }
}
