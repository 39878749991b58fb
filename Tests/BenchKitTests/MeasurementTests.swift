import Foundation
import Testing
import Wire

@testable import BenchKit

/// The timed phase's bookkeeping: ceiling measurements made while the commit is paused are not the commit's.
@Suite("bench measurement")
struct MeasurementTests {
    @Test("a pause's wall and CPU time are left out of the phase's figures")
    func pausesAreLeftOut() throws {
        var measurement = Measurement()
        measurement.record(codes: [.valid, .valid], latency: .milliseconds(1))
        // Half a second asleep and a quarter of a second of this thread's CPU, both inside the pause.
        let spun = measurement.excluding { () -> Double in
            Thread.sleep(forTimeInterval: 0.5)
            let start = ProcessStats.cpuSeconds()
            var sink: UInt64 = 0
            while ProcessStats.cpuSeconds() - start < 0.25 { sink &+= 1 }
            return Double(sink & 1)
        }
        var report = BenchReport.empty(mode: "commit")
        measurement.finish(into: &report)
        #expect(spun <= 1)
        #expect(report.transactions == 2)
        #expect(report.seconds < 0.25, "the pause's 0.75 s of wall time counted: \(report.seconds) s")
        #expect(report.cpuSeconds < 0.125, "the pause's 0.25 s of CPU counted: \(report.cpuSeconds) s")
    }

    @Test("a run is cut into segments of the given length, the last one shorter")
    func segments() {
        let numbers: [UInt64] = Array(2...8)
        #expect(CommitBenchmark.segments(numbers, every: 3) == [[2, 3, 4], [5, 6, 7], [8]])
        #expect(CommitBenchmark.segments(numbers, every: 7) == [numbers])
        #expect(CommitBenchmark.segments(numbers, every: 0) == [numbers])
        #expect(CommitBenchmark.segments(numbers, every: 1).count == 7)
        #expect(CommitBenchmark.segments([], every: 2) == [[]])
    }
}
