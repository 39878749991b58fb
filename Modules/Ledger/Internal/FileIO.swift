import Foundation

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A file opened with POSIX calls, for positional reads and writes that Foundation's FileHandle does not offer
/// without moving a shared offset.
///
/// Owns its descriptor and closes it in `deinit`. `pread` and `pwrite` take the position as an argument, so
/// concurrent readers need no lock; the block store serialises writers.
final class PositionalFile: @unchecked Sendable {  // the descriptor is immutable; pread/pwrite are thread-safe
    let path: String
    private let descriptor: Int32

    /// Opens `path` for reading and writing, creating it when `create` is true.
    init(path: String, create: Bool) throws(LedgerError) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else {
            throw LedgerError.storage("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }

    /// The file size in bytes.
    func size() throws(LedgerError) -> Int64 {
        var info = stat()
        guard fstat(self.descriptor, &info) == 0 else {
            throw LedgerError.storage("cannot stat \(self.path): \(String(cString: strerror(errno)))")
        }
        return Int64(info.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: Int64, count: Int) throws(LedgerError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = buffer.withUnsafeMutableBytes { raw in
                pread(self.descriptor, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw LedgerError.storage(
                    "cannot read \(count) bytes at \(offset) of \(self.path): \(String(cString: strerror(errno)))"
                )
            }
            if result == 0 { break }
            done += result
        }
        if done < count { buffer.removeSubrange(done...) }
        return buffer
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int64) throws(LedgerError) {
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                pwrite(self.descriptor, raw.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw LedgerError.storage(
                    "cannot write \(bytes.count) bytes at \(offset) of \(self.path): \(String(cString: strerror(errno)))"
                )
            }
            done += result
        }
    }

    /// Flushes the file's data to stable storage.
    func sync() throws(LedgerError) {
        guard fsync(self.descriptor) == 0 else {
            throw LedgerError.storage("cannot fsync \(self.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int64) throws(LedgerError) {
        guard ftruncate(self.descriptor, off_t(size)) == 0 else {
            throw LedgerError.storage("cannot truncate \(self.path) to \(size): \(String(cString: strerror(errno)))")
        }
    }
}

/// Flushes a directory entry (after creating a file in it), so the new file survives a power loss.
func syncDirectory(_ path: String) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    close(descriptor)
}

/// An exclusive advisory lock (flock) on a file, held until the object is released: only one process may
/// use a ledger root at a time.
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws(LedgerError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LedgerError.storage("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LedgerError.storage("\(path) is locked: another process is using this ledger directory")
        }
        self.descriptor = descriptor
    }

    deinit {
        _ = flock(self.descriptor, LOCK_UN)
        close(self.descriptor)
    }
}
