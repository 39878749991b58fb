public import MSP
import Foundation
public import Wire

/// Builds an MSP from its config and the channel's MSP version.
public typealias MSPBuilder = @Sendable (Msp_FabricMSPConfig, MSPVersion) throws(MSPError) -> any MembershipServiceProvider

/// Collects the MSPs of every org of every section into one set, merging identical duplicates of an MSP id and
/// refusing differing ones, as Fabric's channel config does.
final class MSPConfigHandler {
    private let version: MSPVersion
    private let builder: MSPBuilder
    private var byID: [String: (config: Msp_MSPConfig, msp: any MembershipServiceProvider)] = [:]

    init(version: MSPVersion, builder: @escaping MSPBuilder) {
        self.version = version
        self.builder = builder
    }

    func propose(_ config: Msp_MSPConfig, organization path: String) throws(ChannelConfigError)
        -> any MembershipServiceProvider
    {
        let msp: any MembershipServiceProvider
        switch config.type {
        case 0:
            let fabric: Msp_FabricMSPConfig
            do {
                fabric = try Msp_FabricMSPConfig(decoding: config.config, field: "\(path)/MSP.config")
            } catch {
                throw ChannelConfigError(.badMSP, "MSP config of \(path) does not decode", cause: error)
            }
            if let existing = self.byID[fabric.name] {
                guard existing.config == config else {
                    throw ChannelConfigError(
                        .badMSP,
                        "Attempted to define two different versions of MSP: \(fabric.name) (at \(path))"
                    )
                }
                return existing.msp
            }
            do {
                msp = try self.builder(fabric, self.version)
            } catch {
                throw ChannelConfigError(
                    .badMSP,
                    "setting up the MSP of \(path) (\(fabric.name)) failed: \(error.message)",
                    cause: error
                )
            }
        case 1:
            throw ChannelConfigError(.badMSP, "MSP of \(path) is an idemix MSP, which this peer does not support")
        default:
            throw ChannelConfigError(.badMSP, "Setup error: unsupported msp type \(config.type) at \(path)")
        }
        self.byID[msp.name] = (config, msp)
        return msp
    }

    func makeManager() throws(ChannelConfigError) -> MSPManager {
        do {
            return try MSPManager(self.byID.keys.sorted().map { self.byID[$0]!.msp })
        } catch {
            throw ChannelConfigError(.badMSP, "creating the channel MSP manager failed", cause: error)
        }
    }
}

/// The MSP builders a peer uses.
public enum MSPBuilders {
    /// Fabric's X.509 MSP on OpenSSL. Channel MSPs cache 1000 deserialised and validated identities each
    /// (Fabric caches 100), so a busy channel with many clients does not thrash the cache on the commit path.
    public static let x509: MSPBuilder = { config, version throws(MSPError) in
        try X509MSP(
            config: config,
            version: version,
            cacheSizes: X509MSP.CacheSizes(deserialize: 1000, validate: 1000, satisfiesPrincipal: 1000)
        )
    }
}
