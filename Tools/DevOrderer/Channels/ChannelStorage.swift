import Foundation
import GRDB
import Ledger
import Logging

/// Where a channel's blocks live: `<data>/chains/<channel>/blocks/` (the Ledger's segment files) and
/// `<data>/chains/<channel>/index.sqlite` (its block index).
enum ChannelStorage {
    /// The folder holding every channel.
    static func chainsDirectory(_ data: URL) -> URL { data.appendingPathComponent("chains", isDirectory: true) }

    /// The folder of `channelID`.
    static func directory(_ data: URL, channelID: String) -> URL {
        self.chainsDirectory(data).appendingPathComponent(channelID, isDirectory: true)
    }

    /// The channel ids with a folder under `data`, sorted.
    static func existingChannels(_ data: URL) -> [String] {
        let chains = self.chainsDirectory(data)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: chains.path)) ?? []
        return names.filter { name in
            FileManager.default.fileExists(
                atPath: chains.appendingPathComponent(name).appendingPathComponent("index.sqlite").path
            )
        }.sorted()
    }

    /// Opens (creating when absent) the block store of `channelID`.
    static func open(
        _ data: URL,
        channelID: String,
        configuration: BlockStoreConfiguration,
        logger: Logger
    ) throws(DevOrdererError) -> BlockStore {
        let directory = self.directory(data, channelID: channelID)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var databaseConfiguration = Configuration()
            databaseConfiguration.label = "dev-orderer.\(channelID)"
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("index.sqlite").path,
                configuration: databaseConfiguration
            )
            let store = try BlockStore(
                directory: directory.appendingPathComponent("blocks", isDirectory: true),
                database: pool,
                configuration: configuration,
                logger: logger
            )
            // A crash between writing a block and indexing it leaves it unindexed; the orderer has no state to
            // replay, so it simply indexes it.
            try store.indexUnindexedBlocks()
            return store
        } catch {
            throw DevOrdererError(
                .storage,
                "cannot open the block store of channel \(channelID) in \(directory.path)",
                cause: error
            )
        }
    }
}
