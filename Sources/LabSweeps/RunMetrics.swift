import Foundation
import LabConfig
import LabRecords
import LabRouting
import LabSafetensors
import LabTraining

/// What the comparison table shows for one run, measured from its records.
///
/// "Final" values average the last tenth of the recorded steps (at least one step), which
/// smooths the step-to-step noise of small batches. FFN experts per token are the mean over
/// tokens and layers (`layer_steps.ffn_experts_mean`), compared with the controller's
/// target K_e (K when no target is set).
public struct RunMetrics: Sendable {
    public var name: String
    public var group: String
    public var status: String
    public var steps: Int
    /// Mean LM loss (nats/token) over the final window.
    public var trainLoss: Double?
    /// The last validation loss.
    public var evalLoss: Double?
    /// Mean FFN experts per token and layer over the final window, and the target K_e.
    public var ffnExperts: Double?
    public var targetFfnExperts: Double
    /// First step from which the smoothed FFN-experts series stays within 5% of K_e to the end.
    public var settlingStep: Int?
    /// Largest excursion past K_e after the series first crosses it, as a fraction of K_e.
    public var overshoot: Double?
    /// Mean MaxVio over layers and the final window.
    public var maxVio: Double?
    /// Mean activated parameters per token over the final window (from `activated_params`).
    public var activatedParams: Double?
    /// Mean gradient RMS (global gradient norm / sqrt(parameter count)) over the final window.
    public var gradRMS: Double?
    /// Mean R_g and router weight similarity where recorded (all steps that have them).
    public var gradNormRatio: Double?
    public var routerSimilarity: Double?
    /// Router weight similarity of the newest checkpoint (mean pairwise cosine of the FFN
    /// experts' router rows, averaged over layers): the end state even where no step records it.
    public var finalRouterSimilarity: Double?
    /// Median tokens per second.
    public var tokensPerSecond: Double?

    /// Tolerance band for `settlingStep`, as a fraction of K_e.
    public static let settlingBand = 0.05

    /// Measures the run named `run.name` in `store` (and its newest checkpoint under `results`,
    /// when given); nil when it has no row there.
    public static func measure(_ run: SweepRun, in store: RecordStore, results: String? = nil) throws -> RunMetrics? {
        guard let row = try store.run(named: run.name) else { return nil }
        let steps = try store.steps(runID: row.id)
        let layers = try store.layerSteps(runID: row.id)
        var m = RunMetrics(name: run.name, group: run.group, status: row.status.rawValue, steps: steps.count,
                           targetFfnExperts: run.config.effectiveTargetFfnExperts)
        guard let last = steps.last?.step else { return m }
        let from = last + 1 - max(1, steps.count / 10)
        let window = steps.filter { $0.step >= from }
        m.trainLoss = mean(window.map(\.lmLoss))
        m.evalLoss = steps.last(where: { $0.evalLoss != nil })?.evalLoss
        let parameters = Double(ParameterCount(model: run.config.model).totalParameters)
        m.gradRMS = mean(window.map { $0.gradNorm / parameters.squareRoot() })
        m.tokensPerSecond = median(steps.map(\.tokensPerS))

        let byStep = Dictionary(grouping: layers, by: \.step)
        let series = byStep.keys.sorted().map { (step: $0, value: mean(byStep[$0]!.map(\.ffnExpertsMean))!) }
        m.ffnExperts = mean(series.filter { $0.step >= from }.map(\.value))
        m.maxVio = mean(layers.filter { $0.step >= from }.map(\.maxVio))
        m.gradNormRatio = mean(layers.compactMap(\.gradNormRatio))
        m.routerSimilarity = mean(layers.compactMap(\.routerSimilarity))
        let smoothed = movingAverage(series.map(\.value), window: max(1, series.count / 50))
        let settling = settlingIndex(smoothed, target: m.targetFfnExperts, band: settlingBand * m.targetFfnExperts)
        m.settlingStep = settling.map { series[$0].step }
        m.overshoot = LabSweeps.overshoot(smoothed, target: m.targetFfnExperts)

        let activated = try store.query("""
            SELECT SUM(tokens * activated_params) * 1.0 / SUM(tokens) FROM activated_params
            WHERE run_id = ?1 AND step >= ?2
            """, [.integer(row.id), .integer(Int64(from))])
        m.activatedParams = activated.first?.first?.double
        if let results { m.finalRouterSimilarity = finalRouterSimilarity(run, results: results) }
        return m
    }

    /// The router similarity of the run's newest checkpoint; nil without one.
    static func finalRouterSimilarity(_ run: SweepRun, results: String) -> Double? {
        let directory = RunInspector.runDirectory(results: results, name: run.name)
        guard let step = Checkpoint.latestStep(runDirectory: directory),
              let file = try? SafetensorsFile(path: Checkpoint.directory(runDirectory: directory, step: step) + "/model.safetensors")
        else { return nil }
        let m = run.config.model
        var values: [Double] = []
        for l in 0..<m.numLayers {
            // [N+Z, D], the reference checkpoint's name.
            guard let w = try? file.floats("model.layers.\(l).mlp.router.classifier.weight"),
                  w.count == m.totalExperts * m.hiddenSize else { return nil }
            values.append(w.withUnsafeBufferPointer {
                routerWeightSimilarity(weights: $0.baseAddress!, experts: m.nRoutedExperts, dim: m.hiddenSize)
            })
        }
        return mean(values)
    }
}

/// The mean of the finite values, nil when there are none.
func mean(_ xs: [Double]) -> Double? {
    let finite = xs.filter(\.isFinite)
    return finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
}

/// The sample standard deviation of the finite values, nil for fewer than two.
func standardDeviation(_ xs: [Double]) -> Double? {
    let finite = xs.filter(\.isFinite)
    guard finite.count >= 2, let m = mean(finite) else { return nil }
    return (finite.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finite.count - 1)).squareRoot()
}

func median(_ xs: [Double]) -> Double? {
    let s = xs.filter(\.isFinite).sorted()
    guard !s.isEmpty else { return nil }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Trailing moving average: element i is the mean of xs[max(0, i-w+1)...i].
func movingAverage(_ xs: [Double], window w: Int) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, x) in xs.enumerated() {
        sum += x
        if i >= w { sum -= xs[i - w] }
        out.append(sum / Double(min(i + 1, w)))
    }
    return out
}

/// The first index from which every value lies within `band` of `target`; nil when the last
/// one does not.
func settlingIndex(_ xs: [Double], target: Double, band: Double) -> Int? {
    var index: Int? = nil
    for (i, x) in xs.enumerated().reversed() {
        guard abs(x - target) <= band else { break }
        index = i
    }
    return index
}

/// After the series first crosses `target` (from the side it started on), the largest
/// distance past it, divided by `target`; 0 when it never crosses; nil for an empty series.
func overshoot(_ xs: [Double], target: Double) -> Double? {
    guard let first = xs.first, target != 0 else { return nil }
    let side: Double = first >= target ? 1 : -1
    guard let crossing = xs.firstIndex(where: { ($0 - target) * side < 0 }) else { return 0 }
    let past = xs[crossing...].map { (target - $0) * side }.max() ?? 0
    return max(0, past) / target
}
