public import Foundation
import MSP
import Wire

/// netgen: Fabric's cryptogen and configtxgen in one call. From a ``NetworkProfile`` it writes the crypto
/// material of every organisation in cryptogen's layout, the channel's genesis block shaped as configtxgen makes
/// it, and `network.json` (a ``NetworkManifest``) naming every folder and endpoint.
public enum NetGen {
    /// The folder of the cryptogen tree inside the output directory.
    public static let cryptoConfigFolder = "crypto-config"

    /// The genesis block's file name for `channelID`.
    public static func genesisBlockFileName(channelID: String) -> String { "\(channelID).genesis.block" }

    /// Generates the network of `profile` into `directory` and returns its manifest (also written as
    /// `network.json`).
    ///
    /// The directory is created if needed. If it exists and is not empty, netgen refuses (`.outputExists`) unless
    /// `force` is set; with `force` it replaces what an earlier run wrote (`crypto-config/`, `network.json`,
    /// `*.genesis.block`) and leaves other files alone. Everything is written into a staging folder inside the
    /// directory first and moved into place at the end, so a failure leaves no half-written network behind. The
    /// genesis block is loaded back as a channel bundle on the written MSPs before anything is moved.
    ///
    /// - Parameter now: the genesis block's timestamp (whole seconds); certificates are valid from the current
    ///   time rounded to the minute minus five minutes, as cryptogen's.
    @discardableResult
    public static func generate(
        _ profile: NetworkProfile,
        into directory: URL,
        force: Bool = false,
        now: Date = Date()
    ) throws(NetGenError) -> NetworkManifest {
        try profile.validate()
        try self.prepare(directory, force: force)
        let staging = directory.appendingPathComponent(".netgen-staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw NetGenError(.io, "could not create \(staging.path)", cause: error)
        }

        let generator = NetworkGenerator(profile: profile, root: staging)
        let manifest = try generator.run(now: now)

        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: staging.path)
        } catch {
            throw NetGenError(.io, "could not list \(staging.path)", cause: error)
        }
        for entry in entries.sorted() {
            do {
                try FileManager.default.moveItem(
                    at: staging.appendingPathComponent(entry),
                    to: directory.appendingPathComponent(entry)
                )
            } catch {
                throw NetGenError(.io, "could not move \(entry) into \(directory.path)", cause: error)
            }
        }
        return manifest
    }

    /// Makes sure `directory` exists and may be written: empty, or `force` (then netgen's earlier outputs go).
    private static func prepare(_ directory: URL, force: Bool) throws(NetGenError) {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            do {
                try files.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw NetGenError(.io, "could not create the output directory \(directory.path)", cause: error)
            }
            return
        }
        guard isDirectory.boolValue else {
            throw NetGenError(.outputExists, "\(directory.path) exists and is not a directory")
        }
        let entries: [String]
        do {
            entries = try files.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw NetGenError(.io, "could not read the output directory \(directory.path)", cause: error)
        }
        guard !entries.isEmpty else { return }
        guard force else {
            throw NetGenError(
                .outputExists,
                "the output directory \(directory.path) is not empty (\(entries.count) entries); choose another "
                    + "directory or pass --force to replace an earlier netgen output in it"
            )
        }
        for entry in entries
        where entry == self.cryptoConfigFolder || entry == NetworkManifest.fileName || entry.hasSuffix(".genesis.block")
            || entry.hasPrefix(".netgen-staging-")
        {
            do {
                try files.removeItem(at: directory.appendingPathComponent(entry))
            } catch {
                throw NetGenError(.io, "could not remove \(entry) from \(directory.path)", cause: error)
            }
        }
    }
}
