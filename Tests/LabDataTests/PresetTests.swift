import Foundation
import Testing
import LabConfig
import LabData

/// The corpus presets in experiments/ load, validate and select what their names say.
@Suite struct PresetTests {
    /// experiments/ of this checkout, found from this source file.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("experiments").path

    /// Guards against a preset that no longer parses (a renamed key) or names the wrong
    /// generator, and against one whose corpus cannot fill a batch.
    @Test(arguments: SyntheticCorpora.names) func syntheticPresetSelectsItsGenerator(name: String) throws {
        let config = try LabConfig.load(path: Self.folder + "/synthetic-\(name).toml")
        #expect(config.data.corpus == .synthetic && config.data.synthetic.rawValue == name)
        #expect(config.train.tokenSampleBatches == config.train.evalBatches, "every evaluation token sampled")
        var small = config.data
        small.syntheticBytes = 50_000
        try Corpus.load(small, seed: config.train.seed).check(batch: config.train.batchSize, seqLen: config.train.seqLen)
    }

    /// Guards against the optional preset drifting from the corpus kind it documents.
    @Test func kingJamesPresetSelectsTheBible() throws {
        let config = try LabConfig.load(path: Self.folder + "/corpus-kjv.toml")
        #expect(config.data.corpus == .kjv && !config.data.cacheDir.isEmpty)
    }
}
