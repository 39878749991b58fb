public import Foundation

/// Runs `body` with a fresh, empty directory under the system's temporary folder, removed afterwards (also when
/// `body` throws). The name starts with `prefix`, so leftovers of a killed run are easy to spot.
public func withTemporaryDirectory<Result>(
    prefix: String = "swift-fabric-test",
    _ body: (URL) throws -> Result
) throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// The async form of ``withTemporaryDirectory(prefix:_:)``.
public func withTemporaryDirectory<Result>(
    prefix: String = "swift-fabric-test",
    _ body: (URL) async throws -> Result
) async throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
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
