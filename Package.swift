// swift-tools-version:6.1
//
// The Swift Fabric peer. Every target is declared once in `layers` below, ordered bottom-up; a target may depend
// only on targets in a strictly lower layer, and the manifest refuses to load (naming the offending pair) when one
// does not. One settings array is applied to every Swift target in the closing loop.
import PackageDescription

// MARK: - External packages

let externalPackages: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
    .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    // Already in the graph through grpc-swift-nio-transport; named here because the gossip transport reads the
    // TLS certificate a peer presented (an X509.Certificate) and hashes its DER for the ConnEstablish binding.
    .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
    .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
    // Also already in the graph through the gRPC transport; named because the gossip and admin servers verify
    // client certificates against trust roots that change while the peer runs (a custom verification callback).
    .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
]

let protobuf = Target.Dependency.product(name: "SwiftProtobuf", package: "swift-protobuf")
let grpcCore = Target.Dependency.product(name: "GRPCCore", package: "grpc-swift-2")
let grpcProtobuf = Target.Dependency.product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")
let grpcHTTP2 = Target.Dependency.product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let grdbSQLite = Target.Dependency.product(name: "GRDBSQLite", package: "GRDB.swift")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let collections = Target.Dependency.product(name: "Collections", package: "swift-collections")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let asn1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

// MARK: - The layer table

/// What a row of the layer table builds.
enum Kind {
    /// A C library from the system, found through pkg-config.
    case system(pkgConfig: String, apt: [String])
    /// A library module under Modules/ (or Tools/ for tool libraries).
    case library
    /// An executable (Apps/ or Tools/).
    case executable
    /// Code shared by the test targets only.
    case testSupport
}

/// One row of the layer table.
struct Module {
    let name: String
    let layer: Int
    let kind: Kind
    let path: String
    /// Targets of this package that the module uses.
    let uses: [String]
    /// Products of other packages that the module uses.
    let external: [Target.Dependency]
    /// Paths under `path` that are not Swift sources of the target.
    let exclude: [String]

    init(
        _ name: String,
        layer: Int,
        _ kind: Kind = .library,
        path: String? = nil,
        uses: [String] = [],
        external: [Target.Dependency] = [],
        exclude: [String] = []
    ) {
        self.name = name
        self.layer = layer
        self.kind = kind
        self.path = path ?? "Modules/\(name)"
        self.uses = uses
        self.external = external
        self.exclude = exclude
    }
}

/// Bottom-up. The number is the layer of DESIGN.md; a module may use only modules of a lower number.
let layers: [Module] = [
    // 0: system-library shims.
    Module("COpenSSL", layer: 0, .system(pkgConfig: "openssl", apt: ["libssl-dev"])),
    Module("CZlib", layer: 0, .system(pkgConfig: "zlib", apt: ["zlib1g-dev"])),
    Module("CLibdeflate", layer: 0, .system(pkgConfig: "libdeflate", apt: ["libdeflate-dev"])),
    Module("CZstd", layer: 0, .system(pkgConfig: "libzstd", apt: ["libzstd-dev"])),
    // 1: Fabric's protobuf messages and gRPC services, hashing helpers, the zlib block codec, and two
    //    package-access helpers: OneShotSignal for the modules that wait on a one-time event, MetricObjects for
    //    the modules whose metrics have dimensions known only when recorded.
    Module(
        "Wire",
        layer: 1,
        uses: ["COpenSSL", "CZlib", "CLibdeflate", "CZstd"],
        external: [protobuf, grpcCore, grpcProtobuf, metrics],
        exclude: ["Protos"]
    ),
    // 2: identities on OpenSSL: X.509 MSPs, signatures, principals, the MSP manager.
    Module("MSP", layer: 2, uses: ["Wire", "COpenSSL"], external: [protobuf, logging, yams]),
    // 3: the channel config tree as a Bundle, policies, config-update validation, BundleSource.
    Module("ChannelConfig", layer: 3, uses: ["MSP", "Wire"], external: [protobuf]),
    // 4: the ledger (block store, state DB, private data store, transaction validation, MVCC and commit,
    //    recovery) and the transient store.
    Module("Ledger", layer: 4, uses: ["ChannelConfig", "MSP", "Wire"], external: [grdb, grdbSQLite, protobuf, logging]),
    Module("TransientStore", layer: 4, uses: ["Wire"], external: [grdb, protobuf]),
    // 5: gossip core: message signing and tags, identity store, discovery, channel state, pull, emitter, transport.
    Module(
        "Gossip",
        layer: 5,
        uses: ["Wire", "MSP", "ChannelConfig"],
        external: [protobuf, grpcCore, grpcHTTP2, logging, metrics, collections, x509, asn1, nioSSL, nioCore]
    ),
    // 6: per-channel leader election over gossip.
    Module("Election", layer: 6, uses: ["Gossip", "Wire"], external: [protobuf, logging, metrics]),
    // 6: state transfer: the bounded payload buffer, the in-order commit loop, anti-entropy and serving state
    //    requests to the channel's Readers.
    Module(
        "GossipState",
        layer: 6,
        uses: ["Gossip", "ChannelConfig", "Wire"],
        external: [protobuf, logging, metrics]
    ),
    // 6: the peer's ordering-service client: orderer endpoints, seek, verify, backoff/failover, hand-off of blocks.
    Module(
        "Deliver",
        layer: 6,
        uses: ["ChannelConfig", "MSP", "Wire"],
        external: [grpcCore, grpcHTTP2, grpcProtobuf, protobuf, logging, metrics, serviceLifecycle]
    ),
    // 7: private data: collection store and access, the coordinator (StoreBlock: private data from the block, the
    //    transient store or other peers), pull/serve of private data, endorsement-time distribution, reconciliation.
    //    One row above GossipState: the coordinator is GossipState's BlockCommitCoordinator and the state-transfer
    //    StateBlockSource, so Privdata uses GossipState's protocols (and PeerCore moves up to 8).
    Module(
        "Privdata",
        layer: 7,
        uses: ["Gossip", "GossipState", "Ledger", "TransientStore", "ChannelConfig", "MSP", "Wire"],
        external: [protobuf, logging, metrics]
    ),
    // 8: the peer: Peer, channels, GossipService wiring, configuration (core.yaml + CORE_ env), admin service.
    Module(
        "PeerCore",
        layer: 8,
        uses: [
            "Privdata", "Deliver", "Election", "GossipState", "Gossip", "Ledger", "TransientStore", "ChannelConfig",
            "MSP", "Wire",
        ],
        external: [
            yams, logging, metrics, prometheus, protobuf, grpcCore, grpcHTTP2, serviceLifecycle, nioHTTP1, nioPosix,
        ]
    ),
    // 8: tool libraries (the test-support module is at 9).
    // NetGen: cryptogen + configtxgen from one YAML profile (MSP folders, genesis block, network.json); a library
    // so that the apps (bench, peer) can call it directly, with `netgen` as its thin command-line front end.
    Module("NetGen", layer: 8, path: "Tools/NetGen", uses: ["MSP", "ChannelConfig", "Wire"], external: [yams, protobuf]),
    // DevOrderer: a development ordering service (Broadcast + Deliver, block cutting, signing, the Ledger's block
    // store); a library so that tests and a local-network launcher can run it in-process, with `dev-orderer` as its
    // thin command-line front end.
    Module(
        "DevOrderer",
        layer: 8,
        path: "Tools/DevOrderer",
        uses: ["Ledger", "ChannelConfig", "MSP", "Wire"],
        external: [grpcCore, grpcHTTP2, grpcProtobuf, protobuf, grdb, logging, serviceLifecycle]
    ),
    // GossipSimulator: many gossip peers and their elections in one process on virtual time (latency, loss,
    // partitions, crashes); a library so that `bench gossip` can run it, and the tests build on it.
    Module(
        "GossipSimulator",
        layer: 8,
        path: "Tools/GossipSimulator",
        uses: ["Gossip", "Election", "Wire"],
        external: [protobuf, collections, logging]
    ),
    // 9: command-line front ends (Apps/), `netgen`, which lives under Tools/ but sits a row above its library
    //    since a module may only use lower layers, and the test-support module (it builds on GossipSimulator).
    Module(
        "TestSupport",
        layer: 9,
        .testSupport,
        path: "Tests/TestSupport",
        uses: ["Wire", "MSP", "Gossip", "Election", "GossipSimulator"],
        external: [protobuf, collections]
    ),
    Module(
        "peer",
        layer: 9,
        .executable,
        path: "Apps/peer",
        uses: ["PeerCore", "Wire"],
        external: [
            argumentParser, logging, metrics, prometheus, protobuf, serviceLifecycle,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]
    ),
    Module("netgen", layer: 9, .executable, path: "Tools/netgen-cli", uses: ["NetGen"], external: [argumentParser]),
    // 9: the local network launcher library (netgen + dev-orderer + peer processes + workload); 10: its command.
    Module(
        "LocalNet",
        layer: 9,
        path: "Tools/LocalNet",
        uses: ["NetGen", "PeerCore", "Ledger", "ChannelConfig", "MSP", "Wire"],
        external: [grpcCore, grpcHTTP2, grpcProtobuf, protobuf]
    ),
    Module(
        "localnet",
        layer: 10,
        .executable,
        path: "Tools/localnet-cli",
        uses: ["LocalNet", "Wire"],
        external: [argumentParser, .product(name: "UnixSignals", package: "swift-service-lifecycle")]
    ),
    Module(
        "dev-orderer",
        layer: 9,
        .executable,
        path: "Tools/dev-orderer-cli",
        uses: ["DevOrderer", "NetGen", "ChannelConfig", "MSP", "Wire"],
        external: [
            argumentParser, logging, serviceLifecycle,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]
    ),
    // BenchKit: the benchmarks behind `bench` (a workload on a network made by NetGen's code, the signature
    // ceiling, the timed commit through the real ledger and its figures, the private data files `bench replay`
    // reads through GossipState's codec), a library so that the app stays thin and tests can run the benchmarks.
    Module(
        "BenchKit",
        layer: 9,
        path: "Tools/BenchKit",
        uses: ["NetGen", "Ledger", "GossipState", "ChannelConfig", "MSP", "Wire"],
        external: [protobuf, logging]
    ),
    Module(
        "bench",
        layer: 10,
        .executable,
        path: "Apps/bench",
        uses: ["BenchKit", "Ledger", "Wire", "Gossip", "Election", "GossipSimulator"],
        external: [argumentParser]
    ),
]

/// Test targets: one per module that has tests, named `<Module>Tests`, under Tests/.
let testedModules: [String] = [
    "Wire", "MSP", "ChannelConfig", "Ledger", "TransientStore", "Gossip", "Election", "Deliver", "GossipState",
    "PeerCore", "NetGen", "DevOrderer", "LocalNet", "GossipSimulator", "BenchKit", "Privdata",
]

/// Targets of this package that a test target uses besides its module and TestSupport (the gossip acceptance
/// test makes its network with NetGen and runs Election over real nodes).
let testUses: [String: [String]] = [
    "Gossip": ["NetGen", "Election", "ChannelConfig", "MSP"],
    // Real ledgers, transient stores, netgen identities and gossip nodes under the private-data services.
    "Privdata": ["NetGen", "Gossip", "GossipState", "Ledger", "TransientStore", "ChannelConfig", "MSP"],
]

/// Products of other packages that a test target uses beyond SwiftProtobuf (SQLite for the storage tests, an
/// in-test gRPC server and test metrics for Deliver, test metrics for GossipState).
let testExternal: [String: [Target.Dependency]] = [
    "Ledger": [grdb],
    "TransientStore": [grdb],
    "Deliver": [
        grpcCore, grpcHTTP2, grpcProtobuf, logging, serviceLifecycle,
        .product(name: "MetricsTestKit", package: "swift-metrics"),
    ],
    "PeerCore": [.target(name: "NetGen"), .target(name: "DevOrderer"), grpcCore, logging, serviceLifecycle, prometheus],
    "GossipState": [logging, .product(name: "MetricsTestKit", package: "swift-metrics")],
    "Privdata": [.product(name: "MetricsTestKit", package: "swift-metrics")],
    // The multi-process tests read stopped peers' ledgers, and play a peer with an in-process gossip node and the
    // Privdata puller.
    "LocalNet": [
        .target(name: "NetGen"), .target(name: "PeerCore"), .target(name: "Ledger"), .target(name: "ChannelConfig"),
        .target(name: "MSP"), .target(name: "Gossip"), .target(name: "Privdata"), .target(name: "TransientStore"),
    ],
    // The peer's own deliver client and netgen's networks, against the orderer over real gRPC.
    "DevOrderer": [
        .target(name: "Deliver"), .target(name: "NetGen"), .target(name: "ChannelConfig"), .target(name: "MSP"),
        .target(name: "Ledger"), grpcCore, grpcHTTP2, grpcProtobuf, logging, serviceLifecycle,
    ],
]

// MARK: - Layering check

let byName = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0) })
for module in layers {
    for used in module.uses {
        guard let dependency = byName[used] else {
            fatalError("layering violation: \(module.name) uses \(used), which is not in the layer table")
        }
        if dependency.layer >= module.layer {
            fatalError(
                "layering violation: \(module.name) (layer \(module.layer)) depends on \(used) "
                    + "(layer \(dependency.layer)); a module may only depend on lower layers"
            )
        }
    }
}

// MARK: - Targets

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

var targets: [Target] = []
var products: [Product] = []
for module in layers {
    let dependencies = module.uses.map { Target.Dependency.target(name: $0) } + module.external
    switch module.kind {
    case .system(let pkgConfig, let apt):
        targets.append(
            .systemLibrary(name: module.name, path: module.path, pkgConfig: pkgConfig, providers: [.apt(apt)])
        )
    case .library, .testSupport:
        targets.append(
            .target(name: module.name, dependencies: dependencies, path: module.path, exclude: module.exclude)
        )
        if case .library = module.kind {
            products.append(.library(name: module.name, targets: [module.name]))
        }
    case .executable:
        targets.append(
            .executableTarget(
                name: module.name,
                dependencies: dependencies,
                path: module.path,
                exclude: module.exclude
            )
        )
        products.append(.executable(name: module.name, targets: [module.name]))
    }
}

for name in testedModules {
    let support = byName["TestSupport"] != nil ? [Target.Dependency.target(name: "TestSupport")] : []
    targets.append(
        .testTarget(
            name: "\(name)Tests",
            dependencies: [.target(name: name), protobuf] + support + (testUses[name] ?? []).map { .target(name: $0) }
                + (testExternal[name] ?? []),
            path: "Tests/\(name)Tests"
        )
    )
}

for index in targets.indices where targets[index].type != .system {
    targets[index].swiftSettings = (targets[index].swiftSettings ?? []) + swiftSettings
}

let package = Package(
    name: "swift-fabric-peer",
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: externalPackages,
    targets: targets
)
