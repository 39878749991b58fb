public import Foundation
import Yams

/// Fabric's peer configuration source: a `core.yaml` file overlaid by `CORE_…` environment variables, read by
/// dotted key (`peer.gossip.useLeaderElection`) the way Fabric's viper setup reads it.
///
/// - Keys are case-insensitive (viper lower-cases them).
/// - An environment variable named `CORE_` + the key upper-cased with dots as underscores
///   (`CORE_PEER_GOSSIP_USELEADERELECTION`) overrides the file.
/// - Relative file paths in the config (MSP folder, TLS files, file system path) resolve against the folder of
///   core.yaml, as Fabric resolves them against FABRIC_CFG_PATH.
///
/// Values are returned raw; ``PeerConfiguration`` applies each key's type and Fabric's *code* fallback.
public struct CoreConfigSource: Sendable {
    /// The folder relative paths resolve against.
    public let baseDirectory: URL
    private let values: [String: ConfigValue]
    private let environment: [String: String]
    /// Sequences of mappings (such as `addressOverrides`), by key, each mapping's scalar fields as strings.
    let mappingLists: [String: [[String: String]]]

    /// A raw config value from YAML.
    enum ConfigValue: Sendable {
        case scalar(String)
        case list([String])
        case map
    }

    /// Reads `file` (if given) and takes overrides from `environment`.
    public init(file: URL?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(PeerCoreError) {
        var values: [String: ConfigValue] = [:]
        var lists: [String: [[String: String]]] = [:]
        if let file {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw PeerCoreError(.badConfiguration, "cannot read \(file.path)", cause: error)
            }
            let node: Node?
            do {
                node = try Yams.compose(yaml: text)
            } catch {
                throw PeerCoreError(.badConfiguration, "\(file.path) is not valid YAML: \(error)", cause: error)
            }
            if let node { Self.flatten(node, prefix: "", into: &values, lists: &lists) }
            self.baseDirectory = file.deletingLastPathComponent()
        } else {
            self.baseDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        }
        self.values = values
        self.mappingLists = lists
        self.environment = environment
    }

    /// A source over in-memory YAML text (tests, embedded defaults).
    public init(yaml: String, baseDirectory: URL, environment: [String: String] = [:]) throws(PeerCoreError) {
        var values: [String: ConfigValue] = [:]
        var lists: [String: [[String: String]]] = [:]
        do {
            if let node = try Yams.compose(yaml: yaml) { Self.flatten(node, prefix: "", into: &values, lists: &lists) }
        } catch {
            throw PeerCoreError(.badConfiguration, "configuration is not valid YAML: \(error)", cause: error)
        }
        self.values = values
        self.mappingLists = lists
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    private static func flatten(
        _ node: Node,
        prefix: String,
        into values: inout [String: ConfigValue],
        lists: inout [String: [[String: String]]]
    ) {
        switch node {
        case .mapping(let mapping):
            if !prefix.isEmpty { values[prefix] = .map }
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                let path = prefix.isEmpty ? name.lowercased() : prefix + "." + name.lowercased()
                flatten(value, prefix: path, into: &values, lists: &lists)
            }
        case .sequence(let sequence):
            values[prefix] = .list(sequence.compactMap { $0.string })
            let mappings: [[String: String]] = sequence.compactMap { item in
                guard case .mapping(let mapping) = item else { return nil }
                var entry: [String: String] = [:]
                for (key, value) in mapping {
                    if let name = key.string, let text = value.string { entry[name] = text }
                }
                return entry
            }
            if !mappings.isEmpty { lists[prefix] = mappings }
        case .scalar(let scalar):
            // YAML `~` / `null` / empty means unset, as viper treats it.
            if scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { return }
            values[prefix] = .scalar(scalar.string)
        case .alias:
            break
        }
    }

    /// The environment variable that overrides `key`.
    public static func environmentName(for key: String) -> String {
        "CORE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The raw text of `key`, from the environment first, then the file; nil when unset (or empty).
    public func string(_ key: String) -> String? {
        if let value = self.environment[Self.environmentName(for: key)], !value.isEmpty { return value }
        if case .scalar(let value)? = self.values[key.lowercased()] { return value }
        return nil
    }

    /// A list value: a YAML sequence, or a string of items separated by spaces or commas (how lists arrive
    /// through the environment).
    public func list(_ key: String) -> [String]? {
        if let value = self.environment[Self.environmentName(for: key)], !value.isEmpty {
            return Self.split(value)
        }
        switch self.values[key.lowercased()] {
        case .list(let items)?: return items.filter { !$0.isEmpty }
        case .scalar(let value)?: return Self.split(value)
        default: return nil
        }
    }

    private static func split(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }).map(String.init)
    }

    /// Whether `key` is set at all (in the environment or the file).
    public func isSet(_ key: String) -> Bool { self.string(key) != nil || self.list(key) != nil }

    /// `key` as a boolean (viper's cast: true/false/1/0/t/f, any case); nil when unset; an error names the key.
    public func bool(_ key: String) throws(PeerCoreError) -> Bool? {
        guard let text = self.string(key) else { return nil }
        switch text.lowercased() {
        case "true", "t", "1", "yes", "on": return true
        case "false", "f", "0", "no", "off": return false
        default: throw PeerCoreError(.badConfiguration, "\(key) = '\(text)' is not a boolean")
        }
    }

    /// `key` as an integer; nil when unset; an error names the key.
    public func int(_ key: String) throws(PeerCoreError) -> Int? {
        guard let text = self.string(key) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw PeerCoreError(.badConfiguration, "\(key) = '\(text)' is not an integer")
        }
        return value
    }

    /// `key` as a Go duration ("10s", "1500ms", "1h", or a bare number of nanoseconds as viper reads it).
    public func duration(_ key: String) throws(PeerCoreError) -> Duration? {
        guard let text = self.string(key) else { return nil }
        guard let duration = parseDuration(text) else {
            throw PeerCoreError(.badConfiguration, "\(key) = '\(text)' is not a duration (e.g. 10s, 1500ms, 1h)")
        }
        return duration
    }

    /// `key` as a file path, resolved against ``baseDirectory`` when relative; nil when unset.
    public func path(_ key: String) -> URL? {
        guard let text = self.string(key) else { return nil }
        return self.resolve(text)
    }

    /// `key` as a list of file paths, each resolved like ``path(_:)``.
    public func paths(_ key: String) -> [URL]? { self.list(key)?.map(self.resolve) }

    func resolve(_ text: String) -> URL {
        text.hasPrefix("/") ? URL(fileURLWithPath: text) : self.baseDirectory.appendingPathComponent(text)
    }
}

/// Parses a Go duration ("1h2m3.5s", "250ms", "-1s") or a bare integer of nanoseconds.
func parseDuration(_ text: String) -> Duration? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let nanoseconds = Int64(trimmed) { return .nanoseconds(nanoseconds) }
    var chars = Substring(trimmed)
    var negative = false
    if chars.first == "-" || chars.first == "+" {
        negative = chars.first == "-"
        chars = chars.dropFirst()
    }
    guard !chars.isEmpty else { return nil }
    let units: [(String, Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]
    var seconds = 0.0
    while !chars.isEmpty {
        let number = chars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !number.isEmpty, let value = Double(number) else { return nil }
        chars = chars.dropFirst(number.count)
        let unit = chars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
        guard let factor = units.first(where: { $0.0 == unit })?.1 else { return nil }
        chars = chars.dropFirst(unit.count)
        seconds += value * factor
    }
    let nanoseconds = Int64((negative ? -seconds : seconds) * 1e9)
    return .nanoseconds(nanoseconds)
}

extension CoreConfigSource {
    /// A YAML list of mappings (`addressOverrides: [{from, to, caCertsFile}]`), as string maps; nil when unset.
    /// Entries can also come through the environment as `from=to[=caFile]` items.
    func overrideEntries(_ key: String) -> [[String: String]]? {
        if let value = self.environment[Self.environmentName(for: key)], !value.isEmpty {
            return Self.split(value).map { item in
                let parts = item.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
                var entry = ["from": parts[0]]
                if parts.count > 1 { entry["to"] = parts[1] }
                if parts.count > 2 { entry["caCertsFile"] = parts[2] }
                return entry
            }
        }
        return self.mappingLists[key.lowercased()]
    }
}
