public import ChannelConfig
public import Foundation
public import MSP
public import Wire

extension DevOrderer {
    /// The orderer's signing identity from a local MSP folder (cryptogen's layout: `signcerts/`, `keystore/`,
    /// `cacerts/`, …), as Fabric's `General.LocalMSPDir`.
    ///
    /// - Parameters:
    ///   - mspID: the MSP id (`General.LocalMSPID`); when nil, the orderer org of the channels' configs whose MSP
    ///     accepts the folder's certificate.
    ///   - genesisBlocks: the channels' genesis blocks, for the MSP version and to find the MSP id.
    public static func loadSigner(
        mspDirectory: URL,
        mspID: String?,
        genesisBlocks: [Common_Block],
        mspBuilder: @escaping MSPBuilder = MSPBuilders.x509
    ) throws(DevOrdererError) -> X509SigningIdentity {
        let bundles = genesisBlocks.compactMap { try? ChannelBundle(configBlock: $0, mspBuilder: mspBuilder) }
        let version = bundles.first?.channel.capabilities.mspVersion ?? ChannelCapabilities(["V3_0"]).mspVersion
        let candidates: [String]
        if let mspID {
            candidates = [mspID]
        } else {
            var ids: [String] = []
            for bundle in bundles {
                for org in (bundle.orderer?.organizations.values).map(Array.init) ?? [] where !ids.contains(org.mspID) {
                    ids.append(org.mspID)
                }
            }
            guard !ids.isEmpty else {
                throw DevOrdererError(
                    .badConfiguration,
                    "no MSP id given and no genesis block names an orderer org to take it from"
                )
            }
            candidates = ids.sorted()
        }
        var failures: [String] = []
        for candidate in candidates {
            do {
                let config = try MSPFolder.load(from: mspDirectory, mspID: candidate, includeSigningIdentity: true)
                guard let signer = try X509MSP(config: config, version: version).signingIdentity else {
                    throw DevOrdererError(.badConfiguration, "\(mspDirectory.path) has no signing identity")
                }
                if mspID == nil {
                    // Keep the org whose channel MSP accepts the certificate.
                    let accepted = bundles.contains { bundle in
                        guard let identity = try? bundle.mspManager.deserializeIdentity(signer.serialized) else {
                            return false
                        }
                        return (try? identity.validate()) != nil
                    }
                    guard accepted else {
                        failures.append("\(candidate): the channel MSP does not accept the certificate")
                        continue
                    }
                }
                return signer
            } catch {
                failures.append("\(candidate): \(reason(error))")
            }
        }
        throw DevOrdererError(
            .badConfiguration,
            "cannot load the orderer's signing identity from \(mspDirectory.path): \(failures.joined(separator: "; "))"
        )
    }

    /// Reads a block file (a serialized `common.Block`, as configtxgen `-outputBlock` or netgen write it).
    public static func readBlock(_ url: URL) throws(DevOrdererError) -> Common_Block {
        do {
            return try Common_Block(decoding: try Data(contentsOf: url), field: url.path)
        } catch {
            throw DevOrdererError(.badGenesisBlock, "cannot read the block \(url.path): \(reason(error))", cause: error)
        }
    }
}
