public import Foundation

/// A fresh folder under the system's temporary directory, removed by ``remove()`` (or left for inspection when
/// a test fails and does not call it).
public struct TemporaryDirectory: Sendable {
    /// The folder.
    public let url: URL

    /// Creates the folder; `prefix` names the test in the path.
    public init(_ prefix: String = "test") throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    public func appending(_ component: String) -> URL { self.url.appendingPathComponent(component) }

    /// Deletes the folder.
    public func remove() { try? FileManager.default.removeItem(at: self.url) }

    /// Runs `body` with a fresh folder, removing it afterwards.
    public static func with<T>(
        _ prefix: String = "test",
        _ body: (TemporaryDirectory) async throws -> T
    )
        async throws -> T
    {
        let directory = try TemporaryDirectory(prefix)
        defer { directory.remove() }
        return try await body(directory)
    }
}

/// Finds executables built alongside the test bundle (`swift build --build-tests` builds every product into
/// the same folder as the tests).
public enum BuiltProducts {
    /// The build folder holding the test bundle, or nil when it cannot be determined.
    public static var directory: URL? {
        if let override = ProcessInfo.processInfo.environment["SWIFT_FABRIC_BUILD_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // On macOS the runner sits inside <name>.xctest/Contents/MacOS.
        while folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder
    }

    /// The executable `name` next to the tests, or nil when it has not been built.
    public static func executable(_ name: String) -> URL? {
        guard let url = directory?.appendingPathComponent(name),
            FileManager.default.isExecutableFile(atPath: url.path)
        else { return nil }
        return url
    }
}

/// Runs `body` with a fresh, empty directory (see ``TemporaryDirectory``), removed afterwards (also when `body`
/// throws). The name starts with `prefix`, so leftovers of a killed run are easy to spot.
public func withTemporaryDirectory<Result>(
    prefix: String = "swift-fabric-test",
    _ body: (URL) throws -> Result
) throws -> Result {
    let directory = try TemporaryDirectory(prefix)
    defer { directory.remove() }
    return try body(directory.url)
}

/// The async form of ``withTemporaryDirectory(prefix:_:)``.
public func withTemporaryDirectory<Result>(
    prefix: String = "swift-fabric-test",
    _ body: (URL) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory(prefix)
    defer { directory.remove() }
    return try await body(directory.url)
}

/// The paths of every regular file under `directory`, relative to it and sorted (`a/b/c.pem`).
public func relativeFilePaths(under directory: URL) throws -> [String] {
    let root = directory.path
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var paths: [String] = []
    while let path = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue
        {
            paths.append(path)
        }
    }
    return paths.sorted()
}
