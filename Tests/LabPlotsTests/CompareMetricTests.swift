import Foundation
import LabRecords
import Testing
@testable import LabPlots

@Suite("Compare metrics")
struct CompareMetricTests {
    /// What each metric must read, written independently of `CompareMetric.spec`: a field of
    /// the step row, or a field of the layer row averaged over layers.
    static var expected: [CompareMetric: Either] { [
        .loss: .step(\.loss), .evalLoss: .step(\.evalLoss), .lmLoss: .step(\.lmLoss),
        .balanceLoss: .step(\.balanceLoss), .gradNorm: .step(\.gradNorm), .lr: .step(\.lr),
        .tokensPerS: .step(\.tokensPerS), .ffnExperts: .layer(\.ffnExpertsMean),
        .zeroShare: .layer(\.zeroExpertShare), .maxVio: .layer(\.maxVio), .routerEntropy: .layer(\.routerEntropy),
        .loadCV: .layer(\.loadCV),
    ] }

    enum Either {
        case step(PartialKeyPath<StepRow>)
        case layer(PartialKeyPath<LayerStepRow>)
    }

    /// Guards against a metric plotting another metric's column (as a `default:` branch once
    /// drew tokens/s for any new metric): every metric has its own column, and its values are
    /// that field of the run's rows.
    @Test func everyMetricResolvesToItsOwnColumn() throws {
        #expect(Set(CompareMetric.allCases.map { "\($0.spec.table).\($0.spec.column)" }).count == CompareMetric.allCases.count)
        #expect(Set(Self.expected.keys) == Set(CompareMetric.allCases), "a metric without an expected field here")
        let store = try Fixture.store()
        let run = try #require(try RunSet(names: ["pid-s1"], store: store).runs.first)
        let records = RunRecords(store: store, run: run)
        let steps = try store.steps(runID: run.id), layers = try store.layerSteps(runID: run.id)
        var series: [CompareMetric: [Double]] = [:]
        for metric in CompareMetric.allCases {
            let got = try metric.values(records, layer: nil)
            let want: [(Int, Double)]
            switch Self.expected[metric]! {
            case .step(let field):
                want = steps.compactMap { row in Self.number(row[keyPath: field]).map { (row.step, $0) } }
            case .layer(let field):
                let byStep = Dictionary(grouping: layers, by: \.step)
                want = byStep.keys.sorted().map { step in
                    let values = byStep[step]!.compactMap { Self.number($0[keyPath: field]) }
                    return (step, values.reduce(0, +) / Double(values.count))
                }
            }
            #expect(!got.isEmpty && got.map(\.step) == want.map(\.0), "\(metric)")
            #expect(zip(got, want).allSatisfy { abs($0.value - $1.1) <= 1e-9 * max(1, abs($1.1)) }, "\(metric)")
            series[metric] = got.map(\.value)
        }
        // No two metrics draw the same curve from the fixture (each of its columns differs).
        let curves = CompareMetric.allCases.map { series[$0]! }
        for i in curves.indices { for j in curves.indices where j > i { #expect(curves[i] != curves[j]) } }
    }

    static func number(_ value: Any) -> Double? {
        if let v = value as? Double { return v }
        if let v = value as? Double? { return v }
        return nil
    }
}
