/// The shape of a `bench commit` workload.
///
/// Every workload block holds `transactionsPerBlock` endorser transactions of chaincode `basic`, created by a
/// client of the first organisation and endorsed by one peer of each of `endorsementsPerTransaction`
/// organisations (the network has that many, so the channel's default MAJORITY endorsement policy needs them
/// all). A transaction reads `readsPerTransaction` keys at the versions the previous blocks committed and writes
/// `writesPerTransaction` values of `valueSize` bytes. The fractions pick transactions evenly (not at random, so
/// a run is reproducible): private data adds one private write to collection `pvt` whose cleartext is handed to
/// the commit; an MVCC conflict reads a key at a stale version; a bad signature is a creator signature or (every
/// other one) an endorsement signature over different bytes.
public struct WorkloadOptions: Sendable, Hashable, Codable {
    /// Workload blocks (committed in the timed part, after the chaincode-definition block).
    public var blocks: Int
    /// Transactions per block.
    public var transactionsPerBlock: Int
    /// Endorsements per transaction (= organisations in the network).
    public var endorsementsPerTransaction: Int
    /// Public reads per transaction.
    public var readsPerTransaction: Int
    /// Public writes per transaction.
    public var writesPerTransaction: Int
    /// Bytes per written value.
    public var valueSize: Int
    /// Fraction of transactions that also write private data.
    public var privateFraction: Double
    /// Fraction of transactions that read a key at a stale version (MVCC_READ_CONFLICT).
    public var conflictFraction: Double
    /// Fraction of transactions with a bad creator or endorsement signature.
    public var badSignatureFraction: Double
    /// Seeds the nonces, so two runs with the same options build the same transactions (signatures differ:
    /// ECDSA signing is randomised).
    public var seed: UInt64

    /// Creates options; the defaults are the reference workload (500 tx per block, 2 endorsements,
    /// 2 reads and 2 writes per tx).
    public init(
        blocks: Int = 200,
        transactionsPerBlock: Int = 500,
        endorsementsPerTransaction: Int = 2,
        readsPerTransaction: Int = 2,
        writesPerTransaction: Int = 2,
        valueSize: Int = 100,
        privateFraction: Double = 0,
        conflictFraction: Double = 0,
        badSignatureFraction: Double = 0,
        seed: UInt64 = 1
    ) {
        self.blocks = blocks
        self.transactionsPerBlock = transactionsPerBlock
        self.endorsementsPerTransaction = endorsementsPerTransaction
        self.readsPerTransaction = readsPerTransaction
        self.writesPerTransaction = writesPerTransaction
        self.valueSize = valueSize
        self.privateFraction = privateFraction
        self.conflictFraction = conflictFraction
        self.badSignatureFraction = badSignatureFraction
        self.seed = seed
    }

    /// Signatures a transaction carries: the creator's and one per endorsement.
    public var signaturesPerTransaction: Int { 1 + self.endorsementsPerTransaction }

    /// Checks the ranges.
    public func validate() throws(BenchError) {
        func check(_ ok: Bool, _ message: String) throws(BenchError) {
            if !ok { throw BenchError(.badOptions, message) }
        }
        try check(self.blocks >= 1, "blocks must be at least 1 (got \(self.blocks))")
        try check(self.transactionsPerBlock >= 1, "txs per block must be at least 1 (got \(self.transactionsPerBlock))")
        try check(
            (1...8).contains(self.endorsementsPerTransaction),
            "endorsements per tx must be 1…8 (got \(self.endorsementsPerTransaction))"
        )
        try check(self.readsPerTransaction >= 0, "reads per tx must not be negative")
        try check(self.writesPerTransaction >= 1, "writes per tx must be at least 1 (got \(self.writesPerTransaction))")
        try check(self.valueSize >= 1, "value size must be at least 1 byte (got \(self.valueSize))")
        for (name, value) in [
            ("private fraction", self.privateFraction), ("conflict fraction", self.conflictFraction),
            ("bad-signature fraction", self.badSignatureFraction),
        ] {
            try check((0...1).contains(value), "\(name) must be within 0…1 (got \(value))")
        }
        try check(
            self.conflictFraction + self.badSignatureFraction <= 1,
            "conflict and bad-signature fractions add up to more than 1"
        )
        try check(
            self.conflictFraction == 0 || self.readsPerTransaction >= 1,
            "an MVCC conflict needs at least one read per tx"
        )
    }
}
