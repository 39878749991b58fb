public import Foundation

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// This process's memory and CPU, from `/proc/self/status` and `getrusage`.
///
/// Peak RSS is the kernel's high-water mark `VmHWM`, which ``resetPeak()`` resets (`echo 5 >
/// /proc/self/clear_refs`) once the workload is built, so the figure covers the commit phase only and is the
/// committing process's own.
public enum ProcessStats {
    /// The resident set size now, in bytes (0 where /proc is missing).
    public static func residentBytes() -> Int64 { self.statusField("VmRSS:") }

    /// The peak resident set size since the process started or since the last ``resetPeak()``, in bytes.
    public static func peakResidentBytes() -> Int64 { self.statusField("VmHWM:") }

    /// Returns freed heap memory to the system and resets the peak-RSS mark; false when the kernel refused.
    @discardableResult
    public static func resetPeak() -> Bool {
        #if canImport(Glibc)
        // malloc_trim is glibc's and not in the Glibc module map; look it up, so that the heap the workload
        // generator freed goes back to the system before the peak is reset.
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            typealias Trim = @convention(c) (Int) -> Int32
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
        let descriptor = open("/proc/self/clear_refs", O_WRONLY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return write(descriptor, "5", 1) == 1
    }

    /// User plus system CPU seconds this process has used.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU seconds the calling thread has used: unlike wall time, not stretched by other processes on the cores.
    public static func threadCPUSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The one-minute load average (how busy the machine was; other processes share its cores).
    public static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
            let first = text.split(separator: " ").first
        else { return 0 }
        return Double(first) ?? 0
    }

    private static func statusField(_ name: String) -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int64(fields[1]) { return kilobytes * 1024 }
        }
        return 0
    }
}

/// Sizes of files on disk.
public enum DiskUsage {
    /// The sum of the sizes of the regular files under `directory` (recursively).
    public static func bytes(under directory: URL) -> Int64 {
        guard
            let enumerator = FileManager.default.enumerator(
                at: directory,
                includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]
            )
        else { return 0 }
        var total: Int64 = 0
        for case let url as URL in enumerator {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]),
                values.isRegularFile == true
            else { continue }
            total += Int64(values.fileSize ?? 0)
        }
        return total
    }
}

/// Percentiles of a set of durations (nearest rank).
public struct Percentiles: Sendable {
    private let sorted: [Double]

    /// The values, in any order.
    public init(_ values: [Double]) { self.sorted = values.sorted() }

    /// The `p`-th percentile (0…100), or 0 with no values.
    public func value(_ p: Double) -> Double {
        guard !self.sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(self.sorted.count)).rounded(.up))
        return self.sorted[min(max(rank, 1), self.sorted.count) - 1]
    }
}

/// The median of `values` (0 when empty).
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
