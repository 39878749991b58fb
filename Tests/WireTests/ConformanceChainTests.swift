import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The blocks a real Fabric v3.1 network produced: they parse, chain, hash and re-encode as Fabric says.
@Suite("Wire on the conformance chain", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct ConformanceChainTests {
    static let folders = ["orderer"] + Conformance.committingPeers

    @Test("every block parses and re-encodes byte for byte", arguments: folders)
    func blocksParse(_ folder: String) throws {
        let numbers = try Conformance.blockNumbers(in: folder)
        #expect(!numbers.isEmpty)
        #expect(numbers == Array(0..<UInt64(numbers.count)), "block files of \(folder) are not 0..n-1")
        for number in numbers {
            let bytes = try Conformance.blockBytes(number, in: folder)
            let block = try Common_Block(serializedBytes: bytes)
            #expect(block.header.number == number, "\(folder)/\(number).block holds block \(block.header.number)")
            #expect(try block.encoded() == bytes, "\(folder)/\(number).block does not re-encode identically")
            #expect(Common_Block.isCanonicalEncoding(bytes))
        }
    }

    @Test("previous_hash of block N is the header hash of block N-1, and header hashes match expected.json",
        arguments: folders)
    func hashChain(_ folder: String) throws {
        let blocks = try Conformance.blocks(in: folder)
        let expected = try Conformance.expected()
        #expect(blocks[0].header.previousHash.isEmpty)
        for (index, block) in blocks.enumerated() {
            if index > 0 {
                #expect(block.header.previousHash == blocks[index - 1].headerHash, "chain breaks at block \(index)")
            }
            let want = try #require(expected[block.header.number])
            #expect(block.headerHash.hexString == want.headerHash, "header hash of block \(index)")
        }
    }

    @Test("the data hash recomputes from the raw envelopes", arguments: folders)
    func dataHash(_ folder: String) throws {
        for block in try Conformance.blocks(in: folder) {
            #expect(block.data.hash == block.header.dataHash, "data hash of \(folder) block \(block.header.number)")
        }
    }

    @Test("the genesis block file is the orderer's block 0")
    func genesisIsBlockZero() throws {
        #expect(try Conformance.data("genesis.block") == Conformance.blockBytes(0))
    }

    @Test("every envelope, payload and header re-encodes byte for byte")
    func envelopesCanonical() throws {
        var envelopes = 0
        for block in try Conformance.blocks() {
            for (index, raw) in block.data.data.enumerated() {
                let place = "block \(block.header.number) tx \(index)"
                let envelope = try Common_Envelope(serializedBytes: raw)
                #expect(try envelope.encoded() == raw, "envelope of \(place)")
                let payload = try envelope.unpackPayload()
                #expect(try payload.encoded() == envelope.payload, "payload of \(place)")
                let channelHeader = try payload.unpackChannelHeader()
                #expect(try channelHeader.encoded() == payload.header.channelHeader, "channel header of \(place)")
                let signatureHeader = try payload.unpackSignatureHeader()
                #expect(try signatureHeader.encoded() == payload.header.signatureHeader, "signature header of \(place)")
                envelopes += 1
            }
        }
        let total = try Conformance.expected().values.reduce(0) { $0 + $1.txs.count }
        #expect(envelopes == total)
    }

    @Test("tx ids recompute from nonce and creator (except the tx built with a bad one)")
    func txIDs() throws {
        let expected = try Conformance.expected()
        var checked = 0
        for block in try Conformance.blocks() {
            let want = try #require(expected[block.header.number])
            for (index, raw) in block.data.data.enumerated() {
                let tx = try TransactionEnvelope(bytes: raw)
                #expect(tx.txID == want.txs[index].txid, "tx id of block \(block.header.number) tx \(index)")
                guard tx.headerType == .endorserTransaction else { continue }
                if want.txs[index].codeOrg1 == "BAD_PROPOSAL_TXID" {
                    #expect(tx.computedTxID != tx.txID)
                } else {
                    #expect(tx.computedTxID == tx.txID, "block \(block.header.number) tx \(index)")
                }
                checked += 1
            }
        }
        #expect(checked == 146)
    }

    @Test("endorser transactions unpack down to their read-write sets")
    func unpackEndorserTransactions() throws {
        let expected = try Conformance.expected()
        var unpacked = 0
        var collections = 0
        for block in try Conformance.blocks() {
            let want = try #require(expected[block.header.number])
            for (index, raw) in block.data.data.enumerated() {
                let envelope = try TransactionEnvelope(bytes: raw)
                guard envelope.headerType == .endorserTransaction else {
                    #expect(envelope.headerType == .config)
                    let config = try envelope.payload.unpackConfigEnvelope()
                    #expect(config.config.hasChannelGroup)
                    continue
                }
                let tx = try EndorserTransaction(envelope: envelope)
                #expect(tx.headerExtension.chaincodeID.name == want.txs[index].chaincode)
                #expect(!tx.action.endorsements.isEmpty)
                #expect(!tx.action.readWriteSet.namespaces.isEmpty)
                for namespace in tx.action.readWriteSet.namespaces {
                    for collection in namespace.collections {
                        // A collection the tx only read (e.g. `_lifecycle` commits reading each org's approval)
                        // has no private write set, hence no hash.
                        if collection.hashedRWSet.hashedWrites.isEmpty {
                            #expect(collection.pvtRWSetHash.isEmpty)
                        } else {
                            #expect(collection.pvtRWSetHash.count == 32)
                        }
                        collections += 1
                    }
                }
                unpacked += 1
            }
        }
        #expect(unpacked == 146)
        #expect(collections > 0)
    }

    @Test("the orderer's blocks carry the SIGNATURES metadata; peers add TRANSACTIONS_FILTER")
    func metadataLayout() throws {
        for number in try Conformance.blockNumbers() {
            let ordered = try Conformance.block(number)
            #expect(ordered.metadata.metadata.count == 5)
            #expect(ordered.metadata.metadata[2].isEmpty)
            for peer in Conformance.committingPeers {
                let committed = try Conformance.block(number, in: peer)
                #expect(committed.header == ordered.header)
                #expect(committed.data == ordered.data)
                #expect(committed.metadata.metadata[2].count == ordered.data.data.count, "filter of \(peer) \(number)")
            }
        }
    }
}
