// When routing freezes: the first evaluation after which a layer's churn stays below a
// tolerance (RoutingChurn.swift) for the rest of the run.

/// The freeze of one layer's routing.
public struct RoutingFreeze: Sendable, Equatable, Codable {
    public var layer: Int
    /// The tolerance the churn is held to (mean Jaccard distance).
    public var tolerance: Double
    /// The first evaluation step from which every later churn is below `tolerance`; nil when
    /// the last churn is not (the routing had not frozen by the end of the records).
    public var step: Int?

    /// The tolerance `longcat-lab churn`, `show` and the notebook use unless told otherwise.
    public static let standardTolerance = 0.05

    /// The freeze of the series `points` (one layer's churn, ascending steps): the `from` step
    /// of the first point of the longest tail of points whose churn is below `tolerance`.
    public init(layer: Int, points: [ChurnPoint], tolerance: Double) {
        self.layer = layer
        self.tolerance = tolerance
        var first: Int? = nil
        for p in points.reversed() {
            guard p.churn < tolerance else { break }
            first = p.from
        }
        step = first
    }

    /// The freeze of every layer of `points` (as `routingChurn` returns them).
    public static func perLayer(_ points: [ChurnPoint], tolerance: Double) -> [RoutingFreeze] {
        Set(points.map(\.layer)).sorted().map { layer in
            RoutingFreeze(layer: layer, points: points.filter { $0.layer == layer }.sorted { $0.to < $1.to },
                          tolerance: tolerance)
        }
    }
}
