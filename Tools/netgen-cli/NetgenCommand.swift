import ArgumentParser
import Foundation
import NetGen

/// `netgen`: the command-line front end of the NetGen library (all logic lives there).
@main
struct NetgenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netgen",
        abstract: "Generate a Fabric network's crypto material, channel genesis block and network.json from a profile.",
        discussion: """
            Writes <out>/crypto-config (cryptogen's layout), <out>/<channel>.genesis.block and <out>/network.json.
            Print a complete example profile with --example; the format is described in Docs/netgen.md.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The YAML profile to generate from.", valueName: "file"))
    var profile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The output directory (created if missing; must be empty unless --force).", valueName: "dir")
    )
    var out: String?

    @Flag(name: .long, help: "Replace an earlier netgen output in a non-empty output directory.")
    var force = false

    @Flag(name: .long, help: "Print an example profile with every key and its default, and exit.")
    var example = false

    func validate() throws {
        if self.example {
            guard self.profile == nil, self.out == nil, !self.force else {
                throw ValidationError("--example takes no other option")
            }
            return
        }
        guard self.profile != nil else { throw ValidationError("missing --profile FILE (or use --example)") }
        guard self.out != nil else { throw ValidationError("missing --out DIR") }
    }

    func run() throws {
        if self.example {
            print(NetworkProfile.exampleYAML, terminator: "")
            return
        }
        guard let profilePath = self.profile, let outPath = self.out else { return }
        do {
            let profile = try NetworkProfile.load(from: URL(fileURLWithPath: profilePath))
            let directory = URL(fileURLWithPath: outPath)
            let manifest = try NetGen.generate(profile, into: directory, force: self.force)
            print(Self.summary(manifest, directory: directory))
        } catch {
            FileHandle.standardError.write(Data("netgen: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func summary(_ manifest: NetworkManifest, directory: URL) -> String {
        var lines = ["channel \(manifest.channelID) written to \(directory.path)"]
        lines.append("  genesis block  \(manifest.genesisBlock)")
        lines.append("  network.json   \(NetworkManifest.fileName)")
        for org in manifest.organizations {
            let nodes = (org.orderers + org.peers).map { "\($0.name) \($0.endpoint)" }.joined(separator: ", ")
            let users = ([org.admin] + org.users).map(\.name).joined(separator: ", ")
            lines.append("  \(org.mspID) (\(org.domain)): \(nodes); \(users)")
        }
        return lines.joined(separator: "\n")
    }
}
