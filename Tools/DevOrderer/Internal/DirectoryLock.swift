import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<directory>/dev-orderer.lock`, so two orderers never write the same chains; released
/// when the lock is closed or the process ends.
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    init(directory: URL) throws(DevOrdererError) {
        let path = directory.appendingPathComponent("dev-orderer.lock").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DevOrdererError(.badConfiguration, "cannot open \(path): errno \(errno)")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw DevOrdererError(
                .badConfiguration,
                "\(directory.path) is in use by another dev-orderer (cannot lock \(path))"
            )
        }
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }
}
