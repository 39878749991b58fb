package import Metrics
import Synchronization

/// Metric objects made once per label and dimensions, then reused, for metrics whose dimension values (a
/// channel, an endpoint, a reason) are known only when something is first recorded.
///
/// A `swift-metrics` object registers itself with its factory when it is made; making one per recording would
/// cost a registry look-up (and, with some factories, an allocation) each time. Package access: the modules'
/// own metrics types (Deliver's, state transfer's) keep their public shape and use this underneath.
package final class MetricObjects: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    private let timers = Mutex<[String: Timer]>([:])

    package init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// The counter `label` with `dimensions`.
    package func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        Self.object(in: self.counters, label, dimensions) {
            Counter(label: label, dimensions: dimensions, factory: self.factory)
        }
    }

    /// The gauge `label` with `dimensions`.
    package func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        Self.object(in: self.gauges, label, dimensions) {
            Gauge(label: label, dimensions: dimensions, factory: self.factory)
        }
    }

    /// The timer `label` with `dimensions`.
    package func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        Self.object(in: self.timers, label, dimensions) {
            Timer(label: label, dimensions: dimensions, factory: self.factory)
        }
    }

    private static func object<Object>(
        in table: borrowing Mutex<[String: Object]>,
        _ label: String,
        _ dimensions: [(String, String)],
        make: () -> Object
    ) -> Object {
        // \u{1} never appears in a label or a dimension Fabric or this project uses.
        let key = ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
        return table.withLock { objects in
            if let object = objects[key] { return object }
            let object = make()
            objects[key] = object
            return object
        }
    }
}
