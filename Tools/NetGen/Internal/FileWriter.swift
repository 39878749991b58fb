import Foundation

/// Writes netgen's output files with plain POSIX calls.
///
/// Foundation's `Data.write(to:)` syncs every file to disk on Linux (about 6 ms a file here), which made a
/// two-org network of ~200 files take over a second. netgen's output is regenerated, not precious, so it is
/// written without a sync; the staging folder still keeps a failed run from leaving half a network behind.
enum FileWriter {
    /// Writes `data` to `url` (creating parent folders), with permissions 0600 when `secret` (private keys),
    /// else 0644.
    static func write(_ data: Data, to url: URL, secret: Bool = false) throws(NetGenError) {
        let mode: mode_t = secret ? 0o600 : 0o644
        var descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if descriptor < 0, errno == ENOENT {
            try self.makeDirectories(url.deletingLastPathComponent().path)
            descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        }
        guard descriptor >= 0 else { throw self.failure("could not create", url) }
        defer { close(descriptor) }
        // O_CREAT's mode is filtered by the umask and ignored for an existing file: set it explicitly.
        guard fchmod(descriptor, mode) == 0 else { throw self.failure("could not set the permissions of", url) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        guard written else { throw self.failure("could not write", url) }
    }

    /// `mkdir -p`: creates `path` and any missing parents (Foundation's `createDirectory` stats every component of
    /// the path on every call, which shows up when a network writes hundreds of files).
    private static func makeDirectories(_ path: String) throws(NetGenError) {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw NetGenError(.io, "could not create the folder \(path): \(String(cString: strerror(errno)))")
        }
        try self.makeDirectories(String(path[..<slash]))
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw NetGenError(.io, "could not create the folder \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func failure(_ what: String, _ url: URL) -> NetGenError {
        NetGenError(.io, "\(what) \(url.path): \(String(cString: strerror(errno)))")
    }
}
