import Foundation
import LabAnalysis
import LabConfig
import LabRecords
import LabRouting
import LabSafetensors
import LabTraining

/// What the sweep's run table shows for one run, measured from its records.
///
/// The final-window numbers (losses, FFN experts per token, MaxVio, activated parameters, the
/// settling step) are LabAnalysis's `RunAnalysis`, the same that `show` and `compare` print;
/// this adds what only a sweep table shows (gradient RMS, overshoot, telemetry means, the
/// checkpoint's router similarity, throughput).
public struct RunMetrics: Sendable {
    public var name: String
    public var group: String
    public var status: String
    public var steps: Int
    /// The run's final-window analysis.
    public var analysis: RunAnalysis
    /// Mean LM loss (nats/token) over the final window.
    public var trainLoss: Double? { analysis.trainLoss }
    /// The last validation loss.
    public var evalLoss: Double? { analysis.evalLoss }
    /// Mean FFN experts per token and layer over the final window, and the target K_e.
    public var ffnExperts: Double? { analysis.ffnExperts }
    public var targetFfnExperts: Double
    /// `Settling.standard` of the per-step mean FFN experts per token against K_e.
    public var settlingStep: Int? { analysis.settlingStep }
    /// Largest excursion past K_e after the series first crosses it, as a fraction of K_e.
    public var overshoot: Double?
    /// Mean MaxVio over layers and the final window.
    public var maxVio: Double? { analysis.maxVio }
    /// Mean activated parameters per token over the final window (from `activated_params`).
    public var activatedParams: Double? { analysis.activatedParams }
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

    /// Measures the run named `run.name` in `store` (and its newest checkpoint under `results`,
    /// when given); nil when it has no row there.
    public static func measure(_ run: SweepRun, in store: RecordStore, results: String? = nil) throws -> RunMetrics? {
        guard let analysis = try RunAnalysis.load(run.name, from: store) else { return nil }
        var m = RunMetrics(name: run.name, group: run.group, status: analysis.status.rawValue, steps: analysis.stepsRecorded,
                           analysis: analysis, targetFfnExperts: run.config.effectiveTargetFfnExperts)
        guard let window = analysis.window else { return m }
        let steps = try store.steps(runID: analysis.id)
        let layers = try store.layerSteps(runID: analysis.id)
        let parameters = Double(ParameterCount(model: run.config.model).totalParameters)
        m.gradRMS = mean(steps.filter { window.contains($0.step) }.map { $0.gradNorm / parameters.squareRoot() })
        m.tokensPerSecond = median(steps.map(\.tokensPerS))
        m.gradNormRatio = mean(layers.compactMap(\.gradNormRatio))
        m.routerSimilarity = mean(layers.compactMap(\.routerSimilarity))
        let byStep = Dictionary(grouping: layers, by: \.step)
        let series = byStep.keys.sorted().map { mean(byStep[$0]!.map(\.ffnExpertsMean)) ?? .nan }
        m.overshoot = LabSweeps.overshoot(movingAverage(series, window: Settling.standard.window), target: m.targetFfnExperts)
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

/// After the series first crosses `target` (from the side it started on), the largest
/// distance past it, divided by `target`; 0 when it never crosses; nil for an empty series.
func overshoot(_ xs: [Double], target: Double) -> Double? {
    guard let first = xs.first, target != 0 else { return nil }
    let side: Double = first >= target ? 1 : -1
    guard let crossing = xs.firstIndex(where: { ($0 - target) * side < 0 }) else { return 0 }
    let past = xs[crossing...].map { (target - $0) * side }.max() ?? 0
    return max(0, past) / target
}
