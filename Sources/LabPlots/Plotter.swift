import Foundation
import LabRecords

/// Draws the lab's figures from a records store with gnuplot.
///
/// Each figure is an image, the gnuplot script that drew it and its data files, side by side
/// in the output folder (default `results/plots/<run>` or `results/plots/<a>-vs-<b>`), under
/// stable names: `loss.png`, `ffn-experts.png`, `bias-layer0.png`, ... Figures that show one
/// run at a time (heat maps, per-expert lines) get the run's name appended when several runs
/// are plotted together.
public struct Plotter: Sendable {
    public let store: RecordStore
    /// The gnuplot program (looked up on PATH).
    public var gnuplot = "gnuplot"

    public init(store: RecordStore) { self.store = store }

    /// Draws every figure of `kind` for the named runs; throws a `PlotError` for a missing run,
    /// an empty table or a gnuplot failure.
    public func plot(_ kind: FigureKind, runs names: [String], options: PlotOptions) throws -> [RenderedFigure] {
        try options.validate()
        let set = try RunSet(names: names, store: store)
        return try render(figureSpecs(kind, set: set, options: options), options: options, set: set)
    }

    /// The default output folder of a set of runs: `<results>/plots/<folder name of the set>`.
    public func defaultOutputDirectory(runs names: [String], results: String = "results") throws -> String {
        results + "/plots/" + (try RunSet(names: names, store: store)).folderName
    }

    func figureSpecs(_ kind: FigureKind, set: RunSet, options: PlotOptions) throws -> [FigureSpec] {
        let c = FigureContext(store: store, runSet: set, options: options)
        switch kind {
        case .activatedParams: return try c.activatedParamsFigures()
        case .ffnExperts: return try [c.ffnExpertsFigure()]
        case .bias: return try c.biasFigures()
        case .zeroShare: return try [c.zeroShareFigure()]
        case .expertLoad: return try c.expertLoadFigures()
        case .loss: return try c.lossFigures()
        case .variance: return try c.varianceFigures()
        case .allocation: return try [c.allocationFigure()]
        case .specialisation: return try c.specialisationFigures()
        case .marginalBenefit: return try [c.marginalBenefitFigure()]
        case .churn: return try [c.churnFigure()]
        case .loopGain: return try [c.loopGainFigure()]
        }
    }

    func render(_ specs: [FigureSpec], options: PlotOptions, set: RunSet) throws -> [RenderedFigure] {
        let source = "\(set.databasePath), runs " + set.runs.map(\.name).joined(separator: ", ")
        let g = Gnuplot(executable: gnuplot)
        return try specs.map { try g.render($0, options: options, source: source) }
    }
}

/// What every figure builder needs: the store, the runs, the options.
struct FigureContext {
    let store: RecordStore
    let runSet: RunSet
    let options: PlotOptions

    var runs: [PlotRun] { runSet.runs }
    var single: Bool { runSet.runs.count == 1 }

    func records(_ run: PlotRun) -> RunRecords { RunRecords(store: store, run: run) }

    /// `base`, with the run's name appended when several runs are plotted.
    func fileName(_ base: String, _ run: PlotRun) -> String {
        single ? base : base + "-" + RunSet.fileSafe(run.name)
    }

    /// `what`, prefixed with the run's name for one-run figures.
    func title(_ what: String, run: PlotRun? = nil) -> String {
        if let run { return "\(run.name): \(what)" }
        return single ? "\(runs[0].name): \(what)" : what
    }

    /// A curve's key title: the run's label, plus `detail` (e.g. `layer 1`) when given.
    func seriesTitle(_ run: PlotRun, _ detail: String?) -> String {
        guard let detail else { return run.label }
        return single ? detail : "\(run.label), \(detail)"
    }

    /// The distinct K_e targets of the runs (`controller.target_ffn_experts`, 0 meaning K).
    var targets: [Double] {
        var seen: [Double] = []
        for r in runs { if let t = r.config.targetFFNExperts, !seen.contains(t) { seen.append(t) } }
        return seen
    }

    /// A layer option checked against a run's layer count.
    func layers(of run: PlotRun) throws -> [Int] {
        let count = try records(run).layerCount()
        guard count > 0 else { throw records(run).empty("layer_steps") }
        if let l = options.layer {
            guard l < count else { throw PlotError("run '\(run.name)' has no layer \(l); its layers are 0...\(count - 1)") }
            return [l]
        }
        return Array(0..<count)
    }
}

/// `%g` with `digits` significant digits.
func short(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)g", v) }

extension Plotter {
    /// Every figure kind that the runs have data for; kinds whose tables are empty are skipped
    /// with the reason (other errors, such as a missing run or gnuplot failing, are thrown).
    public func plotAll(runs names: [String], options: PlotOptions) throws
        -> (figures: [RenderedFigure], skipped: [(kind: FigureKind, reason: String)]) {
        try options.validate()
        let set = try RunSet(names: names, store: store)
        var figures: [RenderedFigure] = [], skipped: [(FigureKind, String)] = []
        for kind in FigureKind.allCases {
            let specs: [FigureSpec]
            do { specs = try figureSpecs(kind, set: set, options: options) } catch let e as PlotError {
                skipped.append((kind, e.message))
                continue
            }
            figures += try render(specs, options: options, set: set)
        }
        return (figures, skipped)
    }
}
