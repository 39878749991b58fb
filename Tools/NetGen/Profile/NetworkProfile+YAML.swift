public import Foundation

extension NetworkProfile {
    /// Parses a profile in the YAML format of `Docs/netgen.md` and validates it.
    ///
    /// Every key is optional except `channel`; an unknown key, a value of the wrong kind or a value that breaks a
    /// rule throws `.badProfile` with the key (`peerOrgs[1].mspID`) and its line.
    public static func parse(yaml text: String) throws(NetGenError) -> NetworkProfile {
        var parser = ProfileParser()
        do {
            let profile = try parser.parse(text)
            try profile.validate()
            return profile
        } catch {
            throw parser.locate(error)
        }
    }

    /// Reads and parses the profile file at `url`.
    public static func load(from url: URL) throws(NetGenError) -> NetworkProfile {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw NetGenError(.io, "the profile \(url.path) does not exist")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw NetGenError(.io, "could not read the profile \(url.path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw NetGenError(.badProfile, "the profile \(url.path) is not UTF-8 text")
        }
        do {
            return try Self.parse(yaml: text)
        } catch {
            var located = error
            located.profilePath = url.path
            throw located
        }
    }
}
