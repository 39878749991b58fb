public import Foundation
public import MSP
import Wire

/// The peer's local MSP (`peer.mspConfigPath`, `peer.localMspId`) and its signing identity: what the peer signs
/// seek requests, gossip messages and admin responses with, and what the admin service authorises callers against.
public struct LocalIdentity: Sendable {
    /// The local MSP, with the signing identity's key.
    public let msp: X509MSP
    /// The peer's signing identity (from `signcerts` and `keystore`).
    public let signer: X509SigningIdentity
    /// The local MSP id.
    public var mspID: String { self.signer.mspID }
    /// The serialized `msp.SerializedIdentity` of the signer.
    public var serializedIdentity: Data { self.signer.serialized }

    /// Loads the MSP folder at `directory` as MSP `mspID`, with its signing identity.
    ///
    /// - Throws: ``PeerCoreError/Code/badIdentity`` naming the folder and what is missing or invalid.
    public init(mspDirectory directory: URL, mspID: String, now: Date = Date()) throws(PeerCoreError) {
        let config: Msp_FabricMSPConfig
        do {
            config = try MSPFolder.load(from: directory, mspID: mspID, includeSigningIdentity: true)
        } catch {
            throw PeerCoreError(.badIdentity, "cannot load the local MSP \(mspID) from \(directory.path)", cause: error)
        }
        let msp: X509MSP
        do {
            msp = try X509MSP(config: config, version: .v1_4_3, now: now)
        } catch {
            throw PeerCoreError(.badIdentity, "the local MSP \(mspID) at \(directory.path) is not valid", cause: error)
        }
        guard let signer = msp.signingIdentity else {
            throw PeerCoreError(.badIdentity, "the local MSP at \(directory.path) has no signing identity")
        }
        do {
            try msp.validate(signer)
        } catch {
            throw PeerCoreError(
                .badIdentity,
                "the signing certificate in \(directory.appendingPathComponent("signcerts").path) does not validate "
                    + "against the MSP's own CAs",
                cause: error
            )
        }
        self.msp = msp
        self.signer = signer
    }
}
