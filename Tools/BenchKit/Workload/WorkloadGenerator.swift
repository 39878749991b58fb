import ChannelConfig
public import Foundation
import Ledger
import MSP
import NetGen
import SwiftProtobuf
import Wire

/// Generates a ``Workload``: a netgen network, the chaincode-definition block and the workload blocks, each signed
/// as a Fabric client, its endorsing peers and the orderer would sign it, written to disk one block at a time.
///
/// The generator keeps the version every key will have after each block commits (only for the transactions it
/// intends to be valid), so the reads of block N+1 name the versions block N writes and MVCC passes except where
/// a conflict is planned. Signing runs in parallel within a block.
public struct WorkloadGenerator: Sendable {
    /// The options.
    public let options: WorkloadOptions
    /// Where the workload goes (created; must be empty or absent).
    public let directory: URL

    /// Creates a generator.
    public init(options: WorkloadOptions, directory: URL) {
        self.options = options
        self.directory = directory
    }

    /// The intended outcome of one transaction.
    enum Kind: Sendable {
        case valid
        case conflict
        case badCreatorSignature
        case badEndorsement

        var code: Protos_TxValidationCode {
            switch self {
            case .valid: .valid
            case .conflict: .mvccReadConflict
            case .badCreatorSignature: .badCreatorSignature
            case .badEndorsement: .endorsementPolicyFailure
            }
        }
    }

    /// Everything needed to build and sign one transaction, decided sequentially.
    struct TxPlan: Sendable {
        var index: Int
        var kind: Kind
        var reads: [(key: String, version: (block: UInt64, tx: UInt64)?)]
        var writes: [String]
        var privateKey: String?
        var nonce: Data
        var valueSeed: UInt64
    }

    /// The signers of the network.
    struct Signers: Sendable {
        var client: TransactionSigner
        var admin: TransactionSigner
        var endorsers: [TransactionSigner]
        var orderer: TransactionSigner
    }

    /// Generates the workload, calling `progress(done, total)` after each block.
    public func generate(progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws(BenchError) -> Workload {
        try self.options.validate()
        let profile = NetworkProfile(
            channelID: Workload.channelID,
            organizations: self.options.endorsementsPerTransaction,
            peersPerOrganization: 1,
            usersPerOrganization: 1
        )
        let networkDirectory = self.directory.appendingPathComponent("network")
        let manifest: NetworkManifest
        do {
            manifest = try NetGen.generate(profile, into: networkDirectory)
        } catch {
            throw BenchError(.workload, "netgen could not generate the network", cause: error)
        }
        let workload = Workload(directory: self.directory, options: self.options, manifest: manifest)
        for folder in [workload.blocksDirectory, workload.privateDirectory, workload.expectedDirectory] {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw BenchError(.workload, "cannot create \(folder.path)", cause: error)
            }
        }
        let signers = try self.signers(manifest, networkDirectory)
        let genesis = try workload.genesisBlock()

        // Block 1: the chaincode definition of `basic`, with collection `pvt`.
        let definition = try self.definitionTransaction(manifest: manifest, signers: signers)
        var previous = try self.writeBlock(
            number: 1,
            previousHash: genesis.header.hash,
            envelopes: [definition],
            privateData: [],
            expected: [.valid],
            workload: workload,
            orderer: signers.orderer
        )

        var versions = [(block: UInt64, tx: UInt64)?](
            repeating: nil,
            count: self.options.transactionsPerBlock * self.options.writesPerTransaction
        )
        var random = SplitMix64(seed: self.options.seed)
        var badSignatures = 0
        let total = self.options.blocks
        for blockIndex in 0..<total {
            let number = Workload.firstWorkloadBlock + UInt64(blockIndex)
            var plans: [TxPlan] = []
            plans.reserveCapacity(self.options.transactionsPerBlock)
            for index in 0..<self.options.transactionsPerBlock {
                let global = UInt64(blockIndex * self.options.transactionsPerBlock + index)
                let kind = self.kind(global, badSignatures: &badSignatures)
                plans.append(self.plan(index: index, kind: kind, global: global, versions: versions, random: &random))
                if kind == .valid {
                    for write in 0..<self.options.writesPerTransaction {
                        versions[index * self.options.writesPerTransaction + write] = (number, UInt64(index))
                    }
                }
            }
            let built = try await self.build(plans, signers: signers)
            previous = try self.writeBlock(
                number: number,
                previousHash: previous,
                envelopes: built.map(\.envelope),
                privateData: built.enumerated().compactMap { index, tx in
                    tx.privateData.map { TxPrivateData(txIndex: UInt64(index), writeSet: $0) }
                },
                expected: plans.map(\.kind.code),
                workload: workload,
                orderer: signers.orderer
            )
            progress(blockIndex + 1, total)
        }
        return workload
    }

    // MARK: Planning

    /// Low-discrepancy choice: transaction `global` falls in [0, f) of the golden-ratio sequence for a fraction
    /// f of all transactions, spread evenly; bad signatures come first, then conflicts.
    private func kind(_ global: UInt64, badSignatures: inout Int) -> Kind {
        let u = Self.fraction(global, 0.618_033_988_749_894_9)
        if u < self.options.badSignatureFraction {
            badSignatures += 1
            return badSignatures % 2 == 1 ? .badCreatorSignature : .badEndorsement
        }
        if u < self.options.badSignatureFraction + self.options.conflictFraction { return .conflict }
        return .valid
    }

    private static func fraction(_ global: UInt64, _ step: Double) -> Double {
        let value = Double(global) * step
        return value - value.rounded(.down)
    }

    private func plan(
        index: Int,
        kind: Kind,
        global: UInt64,
        versions: [(block: UInt64, tx: UInt64)?],
        random: inout SplitMix64
    ) -> TxPlan {
        let writes = self.options.writesPerTransaction
        var reads: [(key: String, version: (block: UInt64, tx: UInt64)?)] = []
        for read in 0..<self.options.readsPerTransaction {
            if read < writes {
                // Read-modify-write of the tx's own keys, at the version the last valid write gave them.
                let slot = index * writes + read
                reads.append((Self.key(slot), versions[slot]))
            } else {
                reads.append(("ro\(index)_\(read)", nil))  // never written: read as absent
            }
        }
        if kind == .conflict {
            // A version no transaction wrote (block 1 holds only the definition): MVCC_READ_CONFLICT.
            reads[0].version = (1, 1)
        }
        var nonce = Data(capacity: 24)
        for _ in 0..<3 { withUnsafeBytes(of: random.next()) { nonce.append(contentsOf: $0) } }
        let isPrivate =
            self.options.privateFraction > 0
            && Self.fraction(global, 0.414_213_562_373_095_1) < self.options.privateFraction
        return TxPlan(
            index: index,
            kind: kind,
            reads: reads,
            writes: (0..<writes).map { Self.key(index * writes + $0) },
            privateKey: isPrivate ? "p\(index)" : nil,
            nonce: nonce,
            valueSeed: random.next()
        )
    }

    static func key(_ slot: Int) -> String { "key\(slot)" }

    // MARK: Building

    struct BuiltTx: Sendable {
        var envelope: Data
        var privateData: Rwset_TxPvtReadWriteSet?
    }

    private func build(_ plans: [TxPlan], signers: Signers) async throws(BenchError) -> [BuiltTx] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = max(1, (plans.count + workers * 4 - 1) / (workers * 4))
        let options = self.options
        do {
            return try await withThrowingTaskGroup(of: [(Int, BuiltTx)].self) { group in
                var start = 0
                while start < plans.count {
                    let slice = Array(plans[start..<min(start + chunk, plans.count)])
                    group.addTask {
                        try slice.map { plan in (plan.index, try Self.buildTx(plan, options: options, signers: signers))
                        }
                    }
                    start += chunk
                }
                var built = [BuiltTx?](repeating: nil, count: plans.count)
                for try await results in group {
                    for (index, tx) in results { built[index] = tx }
                }
                return built.map { $0! }
            }
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(.workload, "cannot build a transaction", cause: error)
        }
    }

    private static func buildTx(_ plan: TxPlan, options: WorkloadOptions, signers: Signers) throws -> BuiltTx {
        var values = SplitMix64(seed: plan.valueSeed)
        var builder = ReadWriteSetBuilder()
        for read in plan.reads { builder.read(Workload.chaincode, read.key, version: read.version) }
        for key in plan.writes { builder.write(Workload.chaincode, key, value: values.bytes(options.valueSize)) }
        if let key = plan.privateKey {
            builder.writePrivate(
                Workload.chaincode,
                collection: Workload.collection,
                key,
                value: values.bytes(options.valueSize)
            )
        }
        var creator = signers.client
        var endorsers = signers.endorsers
        switch plan.kind {
        case .badCreatorSignature:
            let sign = creator.sign
            creator.sign = { message in try sign(message + Data([0])) }
        case .badEndorsement:
            let sign = endorsers[0].sign
            endorsers[0].sign = { message in try sign(message + Data([0])) }
        case .valid, .conflict:
            break
        }
        let envelope = try TransactionBuilder.endorserTransaction(
            channelID: Workload.channelID,
            chaincode: Workload.chaincode,
            rwset: builder.readWriteSet(),
            creator: creator,
            endorsers: endorsers,
            nonce: plan.nonce,
            arguments: [Data("put".utf8)],
            timestamp: Date(timeIntervalSince1970: 1_700_000_000)
        )
        return BuiltTx(envelope: try envelope.serializedBytes(), privateData: try builder.privateReadWriteSet())
    }

    /// `_lifecycle`'s writes for a committed definition of `basic` (sequence 1, the channel's Endorsement policy,
    /// collection `pvt` readable by every org and never expiring), endorsed by every org's peer.
    private func definitionTransaction(manifest: NetworkManifest, signers: Signers) throws(BenchError) -> Data {
        do {
            let namespace = "_lifecycle"
            let name = Workload.chaincode
            var builder = ReadWriteSetBuilder()
            var metadata = Lifecycle_StateMetadata()
            metadata.datatype = "ChaincodeDefinition"
            metadata.fields = ["EndorsementInfo", "ValidationInfo", "Collections", "Sequence"]
            builder.write(namespace, "namespaces/metadata/\(name)", value: try metadata.serializedBytes())
            func field(_ field: String, _ data: Lifecycle_StateData) throws {
                builder.write(namespace, "namespaces/fields/\(name)/\(field)", value: try data.serializedBytes())
            }
            try field("Sequence", .with { $0.int64 = 1 })
            var endorsement = Lifecycle_ChaincodeEndorsementInfo()
            endorsement.version = "1.0"
            endorsement.endorsementPlugin = "escc"
            let endorsementBytes: Data = try endorsement.serializedBytes()
            try field("EndorsementInfo", .with { $0.bytes = endorsementBytes })
            var policy = Protos_ApplicationPolicy()
            policy.channelConfigPolicyReference = "/Channel/Application/Endorsement"
            var validation = Lifecycle_ChaincodeValidationInfo()
            validation.validationPlugin = "vscc"
            validation.validationParameter = try policy.serializedBytes()
            let validationBytes: Data = try validation.serializedBytes()
            try field("ValidationInfo", .with { $0.bytes = validationBytes })
            let members = manifest.peerOrganizations.map { "'\($0.mspID).member'" }.joined(separator: ", ")
            var collection = Protos_StaticCollectionConfig()
            collection.name = Workload.collection
            collection.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse("OR(\(members))")
            collection.requiredPeerCount = 0
            collection.maximumPeerCount = 1
            collection.blockToLive = 0
            collection.memberOnlyRead = true
            var package = Protos_CollectionConfigPackage()
            package.config = [.with { $0.staticCollectionConfig = collection }]
            let packageBytes: Data = try package.serializedBytes()
            try field("Collections", .with { $0.bytes = packageBytes })
            let envelope = try TransactionBuilder.endorserTransaction(
                channelID: Workload.channelID,
                chaincode: namespace,
                rwset: builder.readWriteSet(),
                creator: signers.admin,
                endorsers: signers.endorsers,
                arguments: [Data("CommitChaincodeDefinition".utf8)]
            )
            return try envelope.serializedBytes()
        } catch {
            throw BenchError(.workload, "cannot build the chaincode definition transaction", cause: error)
        }
    }

    private func signers(_ manifest: NetworkManifest, _ directory: URL) throws(BenchError) -> Signers {
        func signer(
            _ member: NetworkManifest.Member,
            _ org: NetworkManifest.Organization
        ) throws(BenchError)
            -> TransactionSigner
        {
            do {
                let identity = try manifest.signingIdentity(of: member, in: org, directory: directory)
                return TransactionSigner(identity: identity.serialized) { message in try identity.sign(message) }
            } catch {
                throw BenchError(.workload, "cannot load the signing identity of \(member.name)", cause: error)
            }
        }
        guard let first = manifest.peerOrganizations.first, let user = first.users.first,
            let ordererNode = manifest.ordererOrganization.orderers.first
        else {
            throw BenchError(.workload, "the generated network lacks a user or an orderer")
        }
        var endorsers: [TransactionSigner] = []
        for org in manifest.peerOrganizations {
            guard let peer = org.peers.first else { throw BenchError(.workload, "\(org.mspID) has no peer") }
            endorsers.append(try signer(peer.identity, org))
        }
        return Signers(
            client: try signer(user, first),
            admin: try signer(first.admin, first),
            endorsers: endorsers,
            orderer: try signer(ordererNode.identity, manifest.ordererOrganization)
        )
    }

    // MARK: Writing

    /// Builds, signs and writes block `number`; returns its header hash.
    private func writeBlock(
        number: UInt64,
        previousHash: Data,
        envelopes: [Data],
        privateData: [TxPrivateData],
        expected: [Protos_TxValidationCode],
        workload: Workload,
        orderer: TransactionSigner
    ) throws(BenchError) -> Data {
        var block = BlockBuilder.block(number: number, previousHash: previousHash, envelopes: envelopes)
        do {
            try BlockBuilder.sign(&block, lastConfig: 0, signer: orderer)
            let bytes: Data = try block.serializedBytes()
            try bytes.write(to: workload.blocksDirectory.appendingPathComponent("\(number).block"))
            if !privateData.isEmpty {
                try PrivateDataFile.encode(privateData).write(
                    to: workload.privateDirectory.appendingPathComponent("\(number).pvt")
                )
            }
            try Data(expected.map { UInt8(truncatingIfNeeded: $0.rawValue) }).write(
                to: workload.expectedDirectory.appendingPathComponent("\(number).codes")
            )
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(.workload, "cannot write block \(number)", cause: error)
        }
        return block.header.hash
    }
}

/// SplitMix64: a small, fast, seedable generator for nonces and values (not for keys or anything secret).
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> Data {
        var data = Data(capacity: count + 8)
        while data.count < count { withUnsafeBytes(of: self.next()) { data.append(contentsOf: $0) } }
        return data.prefix(count)
    }
}
