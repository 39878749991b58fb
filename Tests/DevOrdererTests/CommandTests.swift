import Foundation
import TestSupport
import Testing
import Wire

/// The `dev-orderer` executable as a script starts it: `--network DIR`, one "listening on" line on standard output,
/// Broadcast served, a clean exit on SIGTERM.
@Suite(
    "dev-orderer command",
    .timeLimit(.minutes(2)),
    .enabled(if: BuiltProducts.executable("dev-orderer") != nil, "the dev-orderer executable is not built")
)
struct CommandTests {
    let network = TestNetwork.shared

    @Test("starts from a netgen network, prints its address, orders, and exits 0 on SIGTERM")
    func startsFromNetwork() async throws {
        let executable = try #require(BuiltProducts.executable("dev-orderer"))
        try await TemporaryDirectory.with("devorderer-cli") { directory in
            let child = ChildProcess(
                executable: executable,
                arguments: [
                    "--network", network.directory.path, "--listen", "127.0.0.1:0", "--data",
                    directory.appending("data").path, "--log-level", "error",
                ]
            )
            let output = Pipe()
            child.process.standardOutput = output
            let (chunks, continuation) = AsyncStream.makeStream(of: Data.self)
            output.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { continuation.finish() } else { continuation.yield(data) }
            }
            try child.start()
            var buffer = Data()
            for await chunk in chunks {
                buffer.append(chunk)
                if buffer.contains(0x0a) { break }
            }
            output.fileHandleForReading.readabilityHandler = nil
            let first = String(decoding: buffer.prefix { $0 != 0x0a }, as: UTF8.self)
            #expect(first.hasPrefix("listening on 127.0.0.1:"))
            #expect(first.hasSuffix("channels=\(TestNetwork.channelID)"))
            let address = String(first.dropFirst("listening on ".count).prefix { $0 != " " })
            let responses = try await OrdererClient.broadcast(
                address,
                try (0..<5).map { try network.transaction("cli\($0)") }
            )
            #expect(responses.map(\.status) == Array(repeating: .success, count: 5))
            let all = try await OrdererClient.deliver(
                address,
                try OrdererClient.seek(start: OrdererClient.oldest, stop: OrdererClient.newest, signer: network.peer)
            )
            #expect(all.blocks.map(\.header.number) == [0, 1])
            try verifyChain(all.blocks, genesisBundle: network.bundle)
            child.kill(SIGTERM)
            #expect(await child.wait() == 0)
        }
    }
}
