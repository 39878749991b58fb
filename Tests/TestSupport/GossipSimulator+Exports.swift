// Test support builds on the gossip simulator (the simulation engine and its hash-based PKI moved there so
// that `bench gossip` can run it); re-exported so every test target keeps seeing them through TestSupport.
@_exported public import GossipSimulator
