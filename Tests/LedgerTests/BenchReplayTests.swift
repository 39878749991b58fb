import Foundation
import Ledger
import TestSupport
import Testing
import Wire

/// `bench replay` end to end, and the record checksum.
@Suite("bench replay")
struct BenchReplayTests {
    @Test func crc32cVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)) == 0x62A8_AB43)
    }

    @Test(
        .enabled(if: Conformance.isAvailable, Conformance.missingReason),
        .enabled(if: BuiltProducts.executable("bench") != nil, "the bench executable is not built")
    )
    func replayPrintsThePeersFiltersAndCommitHashes() async throws {
        // Real validation (no stand-in): the filters and commit hashes are Fabric's.
        try await self.replay(extraArguments: [])
        // The reference stand-in gives the same answers.
        try await self.replay(extraArguments: ["--reference", try Conformance.url("peer0.org1").path])
    }

    func replay(extraArguments: [String]) async throws {
        let bench = try #require(BuiltProducts.executable("bench"))
        let conformance = try #require(Conformance.directory)
        let directory = try TemporaryDirectory("bench-replay")
        defer { directory.remove() }
        let out = directory.appending("replay.jsonl")
        let process = ChildProcess(
            executable: bench,
            arguments: [
                "replay",
                "--genesis", conformance.appendingPathComponent("genesis.block").path,
                "--blocks", conformance.appendingPathComponent("orderer").path,
                "--out", out.path,
            ] + extraArguments
        )
        try process.start()
        #expect(await process.wait() == 0)
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 31)
        let expected = try Conformance.expected()
        for line in lines.dropLast() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let number = try #require(object["block"] as? Int)
            let reference = try Conformance.block(UInt64(number), in: "peer0.org1")
            #expect(object["filter"] as? String == PeerLedger.filter(of: reference).hexString, "block \(number)")
            #expect(object["commit_hash"] as? String == expected[UInt64(number)]?.commitHashOrg1, "block \(number)")
            #expect(object["txs"] as? Int == reference.data.data.count)
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        #expect(summary["height"] as? Int == 30)
        #expect(summary["valid"] as? Int == 112)
    }

    @Test(.enabled(if: BuiltProducts.executable("bench") != nil, "the bench executable is not built"))
    func helpExplainsValidation() async throws {
        let bench = try #require(BuiltProducts.executable("bench"))
        let process = ChildProcess(executable: bench, arguments: ["replay", "--help"])
        let pipe = Pipe()
        process.process.standardOutput = pipe
        try process.start()
        _ = await process.wait()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("Fabric's v2.0 validation"))
        #expect(text.contains("--reference"))
        #expect(text.contains("--structural"))
    }
}
