import Foundation
import LabConfig
import LabData
import LabRecords
import Testing
@testable import LabTraining

@Suite("Token sampling of subword runs", .serialized)
struct TokenSamplingSubwordTests {
    /// Guards against a subword run that cannot be reproduced or read: its tokenizer is saved
    /// in the run folder, and its token samples hold subword ids labelled with token classes.
    @Test func subwordRunSavesItsTokenizerAndSamplesSubwordIds() throws {
        var c = smallConfig(steps: 4)
        c.data.tokenizer = .bpe
        c.model.vocabSize = 300
        c.train.evalInterval = 0
        c.train.evalBatches = 1
        let o = temporaryOptions("bpe")
        _ = try Trainer(config: c, options: o).run()
        let saved = try String(contentsOfFile: o.resultsDirectory + "/runs/bpe/tokenizer.json", encoding: .utf8)
        let tokenizer = try BytePairTokenizer(json: saved, source: "tokenizer.json")
        let corpus = try Corpus.load(c.data, seed: c.train.seed, vocabSize: 300)
        #expect(tokenizer == corpus.tokenizer)
        let store = try RecordStore(path: o.databasePath)
        let id = try #require(try store.runID(named: "bpe"))
        let rows = try store.tokenSamples(runID: id, step: 3)
        #expect(rows.count == c.train.batchSize * c.train.seqLen * c.model.numLayers)
        #expect(rows.allSatisfy { (0..<300).contains($0.token) } && rows.contains { $0.token >= 256 })
        #expect(rows.allSatisfy { TokenClass.labelNames.contains($0.label ?? "") })
    }
}
