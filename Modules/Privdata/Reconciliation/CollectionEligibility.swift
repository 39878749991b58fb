public import Ledger
public import Logging

/// Makes past private data reconcilable when this peer's organisation joins a collection (Fabric's
/// `collElgNotifier` with the private data store's `ProcessCollsEligibilityEnabled`).
///
/// A block's data for a collection this peer was not eligible for is recorded as *ineligible* missing, and the
/// reconciler never asks for it. When a later chaincode definition makes the peer eligible (its organisation is
/// added to the member policy, or the access filter now accepts it), every ineligible record of that collection
/// becomes eligible, so the reconciler fetches the data from the peers that have it.
///
/// Checked after each block that committed a collection configuration (the ledger's configuration history), and
/// once when the channel's services start, which covers a crash between a commit and the check.
public struct CollectionEligibility: Sendable {
    /// The ledger.
    public let ledger: PeerLedger
    /// The collections (latest configuration).
    public let collections: CollectionStore
    /// This peer.
    public let local: LocalPeerIdentity
    private let logger: Logger

    /// Creates the checker.
    public init(
        ledger: PeerLedger,
        collections: CollectionStore,
        local: LocalPeerIdentity,
        logger: Logger = Logger(label: "privdata.eligibility")
    ) {
        self.ledger = ledger
        self.collections = collections
        self.local = local
        self.logger = logger
    }

    /// After block `number` committed: when it changed a collection configuration, converts what became
    /// eligible. Errors are logged (the next start checks again).
    @discardableResult
    public func blockCommitted(_ number: UInt64) -> Int {
        do {
            guard try !self.ledger.collectionConfigUpdates(block: number).isEmpty else { return 0 }
            return try self.convert()
        } catch {
            self.logger.error("cannot check collection eligibility after block \(number): \(error)")
            return 0
        }
    }

    /// Turns the ineligible missing records of every collection this peer is now eligible for into eligible ones;
    /// returns how many records were converted. Collections that cannot be looked up stay as they are.
    @discardableResult
    public func convert() throws(PrivdataError) -> Int {
        let store = self.ledger.privateDataStore
        let pairs: [(namespace: String, collection: String)]
        do {
            pairs = try store.ineligibleCollections()
        } catch {
            throw PrivdataError(.storage, "cannot list the ineligible missing private data", cause: error)
        }
        var converted = 0
        for (namespace, collection) in pairs {
            guard let access = try? self.collections.collection(namespace: namespace, name: collection),
                access.admits(self.local)
            else { continue }
            let count: Int
            do {
                count = try store.makeEligible(namespace: namespace, collection: collection)
            } catch {
                throw PrivdataError(
                    .storage,
                    "cannot make the missing private data of \(namespace)/\(collection) eligible",
                    cause: error
                )
            }
            if count > 0 {
                self.logger.notice(
                    "\(self.local.mspID) is now eligible for \(namespace)/\(collection): \(count) missing record(s) of past blocks will be reconciled"
                )
            }
            converted += count
        }
        return converted
    }
}
