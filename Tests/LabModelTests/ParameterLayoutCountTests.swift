import Foundation
import LabConfig
import Testing
@testable import LabModel

/// The parameter calculator (LabConfig's `ParameterCount`, behind the `activated_params` column
/// and the simulators) against the layout the model actually allocates (`ParameterLayout`).
@Suite("Parameter count against the layout")
struct ParameterLayoutCountTests {
    static let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments")

    /// The presets in experiments/ that load as a config (sweep files do not).
    static func presets() throws -> [(name: String, model: ModelConfig)] {
        let files = try FileManager.default.contentsOfDirectory(atPath: experiments.path).filter { $0.hasSuffix(".toml") }
        return files.sorted().compactMap { file in
            guard let c = try? LabConfig.load(path: experiments.appendingPathComponent(file).path) else { return nil }
            return (String(file.dropLast(5)), c.model)
        }
    }

    /// Guards against the calculator and the model disagreeing on a tensor (a norm, the MTP
    /// head, MoE++ constant experts' weights) in any preset a researcher runs.
    @Test func everyPresetCountsWhatTheLayoutAllocates() throws {
        let presets = try Self.presets()
        print("parameter count = layout count: \(presets.count) presets: \(presets.map(\.name).joined(separator: ", "))")
        #expect(presets.count >= 8, "only \(presets.count) presets load as configs")
        for (name, m) in presets {
            #expect(ParameterCount(model: m).totalParameters == ParameterLayout(m).count, "\(name)")
        }
    }

    /// Guards the optional terms the presets may leave off: the MTP head, MoE++ constant zero
    /// experts, no zero experts, the sequential layout.
    @Test func optionalTermsCountWhatTheLayoutAllocates() throws {
        var base = try #require(try Self.presets().first { $0.name == "quickstart" }).model
        base.mtpLossCoef = 0.3
        var constant = base
        constant.zeroExpertType = .constant
        var noZero = base
        noZero.zeroExpertNum = 0
        var sequential = base
        sequential.layout = .sequential
        for (name, m) in [("mtp", base), ("constant", constant), ("no zero experts", noZero), ("sequential", sequential)] {
            #expect(ParameterCount(model: m).totalParameters == ParameterLayout(m).count, "\(name)")
        }
    }

    /// The paper-scale architecture is laid out as offsets only (no buffer is allocated), so it is
    /// checked too: 560.66B parameters both ways, with and without an MTP head.
    @Test func paperScaleCountsWhatTheLayoutAllocates() {
        var m = ModelConfig.longcatFlash
        let layout = ParameterLayout(m)
        #expect(ParameterCount(model: m).totalParameters == layout.count)
        #expect(abs(Double(layout.count) / 1e9 - 560.66) < 0.01, "\(layout.count)")
        m.mtpLossCoef = 0.1
        #expect(ParameterCount(model: m).totalParameters == ParameterLayout(m).count)
    }
}
