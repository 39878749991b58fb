import Synchronization

/// Holds a channel's current ``ChannelBundle`` and tells registered callbacks about every new one.
///
/// Creating the source runs every callback once with the initial bundle; ``update(_:)`` stores the new bundle
/// and then runs the callbacks synchronously, in registration order. Readers always see the latest bundle.
public final class BundleSource: Sendable {
    /// Called with each new bundle.
    public typealias Callback = @Sendable (ChannelBundle) -> Void

    private let state: Mutex<ChannelBundle>
    private let callbacks: [Callback]

    /// Stores `bundle` and runs `callbacks` with it, in order.
    public init(_ bundle: ChannelBundle, callbacks: [Callback]) {
        self.state = Mutex(bundle)
        self.callbacks = callbacks
        for callback in callbacks { callback(bundle) }
    }

    /// The current bundle.
    public var bundle: ChannelBundle { self.state.withLock { $0 } }

    /// Replaces the bundle and runs every callback with the new one.
    public func update(_ bundle: ChannelBundle) {
        self.state.withLock { $0 = bundle }
        for callback in self.callbacks { callback(bundle) }
    }
}
