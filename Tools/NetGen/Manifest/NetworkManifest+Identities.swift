import ChannelConfig
public import Foundation
public import MSP

extension NetworkManifest {
    /// The MSP version the channel's capabilities select (v3.0 for channel V3_0, v1.4.3 for V2_0).
    public var mspVersion: MSPVersion { ChannelCapabilities([self.capabilities.channel]).mspVersion }

    /// The local signing identity of `member` of `organization` in a network written to `directory`: its `msp/`
    /// folder with `signcerts` and `keystore/priv_sk`, set up as an X.509 MSP.
    public func signingIdentity(
        of member: Member,
        in organization: Organization,
        directory: URL
    ) throws(NetGenError) -> X509SigningIdentity {
        let folder = Self.url(member.mspDirectory, in: directory)
        do {
            let config = try MSPFolder.load(from: folder, mspID: organization.mspID, includeSigningIdentity: true)
            guard let signer = try X509MSP(config: config, version: self.mspVersion).signingIdentity else {
                throw NetGenError(.crypto, "the MSP folder \(folder.path) has no signing identity")
            }
            return signer
        } catch let error as NetGenError {
            throw error
        } catch {
            throw NetGenError(.crypto, "could not load the signing identity of \(member.name)", cause: error)
        }
    }

    /// The verifying MSP of `organization` (its `msp/` folder, what the channel config carries).
    public func msp(of organization: Organization, directory: URL) throws(NetGenError) -> X509MSP {
        let folder = Self.url(organization.mspDirectory, in: directory)
        do {
            return try X509MSP(
                config: MSPFolder.load(from: folder, mspID: organization.mspID),
                version: self.mspVersion
            )
        } catch {
            throw NetGenError(
                .crypto,
                "could not set up the MSP of \(organization.mspID) from \(folder.path)",
                cause: error
            )
        }
    }
}
