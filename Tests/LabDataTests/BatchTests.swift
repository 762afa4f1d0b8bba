import Testing
import LabData

@Suite struct BatchTests {
    let corpus: Corpus
    init() throws {
        let generator = MixtureGenerator()
        let (tokens, labels) = generator.generate(bytes: 20_000, seed: 5)
        corpus = try Corpus(name: "mix", tokens: tokens, labels: labels, labelNames: generator.labelNames,
                            generator: generator, validationFraction: 0.1)
    }

    /// Guards against batches that depend on call order or sampler state: a resumed run must
    /// see exactly the batches the uninterrupted run saw.
    @Test func sameSeedAndStepGiveTheSameBatch() {
        let a = BatchSampler(corpus: corpus, split: .train, batch: 4, seqLen: 16, seed: 9)
        let b = BatchSampler(corpus: corpus, split: .train, batch: 4, seqLen: 16, seed: 9)
        _ = a.batch(atStep: 0)
        #expect(a.batch(atStep: 37) == b.batch(atStep: 37))
        #expect(a.batch(atStep: 37) != a.batch(atStep: 38))
        let otherSeed = BatchSampler(corpus: corpus, split: .train, batch: 4, seqLen: 16, seed: 10)
        #expect(otherSeed.batch(atStep: 37) != a.batch(atStep: 37))
    }

    /// Guards against misaligned targets (predicting the current byte, or two ahead) and labels
    /// that describe the input instead of the predicted token.
    @Test func targetsAreTheNextBytesAndLabelsDescribeTargets() {
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: 3, seqLen: 20, seed: 2)
        let batch = sampler.batch(atStep: 4)
        for (b, s) in sampler.windowStarts(step: 4).enumerated() {
            for t in 0..<20 {
                #expect(batch.tokens[b * 20 + t] == Int32(corpus.tokens[s + t]))
                #expect(batch.targets[b * 20 + t] == Int32(corpus.tokens[s + t + 1]))
                #expect(batch.labels[b * 20 + t] == corpus.labels![s + t + 1])
                if t + 1 < 20 { #expect(batch.targets[b * 20 + t] == batch.tokens[b * 20 + t + 1]) }
            }
        }
    }

    /// Guards against leakage: training windows must never read validation bytes, and
    /// validation windows never training bytes.
    @Test func windowsStayInsideTheirSplit() {
        for split in Split.allCases {
            let sampler = BatchSampler(corpus: corpus, split: split, batch: 8, seqLen: 64, seed: 1)
            let range = corpus.range(split)
            for step in 0..<200 {
                for s in sampler.windowStarts(step: step) {
                    #expect(s >= range.lowerBound && s + 64 + 1 <= range.upperBound)
                }
            }
        }
    }

    /// Guards against evaluation that samples randomly (noisy curves) or that covers only the
    /// start of the validation split.
    @Test func evaluationBatchesAreFixedAndSpreadOverValidation() {
        let a = BatchSampler(corpus: corpus, split: .validation, batch: 4, seqLen: 32, seed: 1)
        let b = BatchSampler(corpus: corpus, split: .validation, batch: 4, seqLen: 32, seed: 99)
        #expect(a.evaluationBatch(index: 2, of: 3) == b.evaluationBatch(index: 2, of: 3))
        #expect(a.evaluationBatch(index: 0, of: 3) != a.evaluationBatch(index: 1, of: 3))
        let starts = (0..<3).flatMap { a.evaluationWindowStarts(index: $0, of: 3) }
        let range = corpus.range(.validation)
        #expect(starts.first == range.lowerBound)
        #expect(starts.last! + 32 + 1 == range.upperBound)
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 })
        let batch = a.evaluationBatch(index: 1, of: 3)
        let s = starts[4]
        #expect(batch.tokens[0] == Int32(corpus.tokens[s]) && batch.targets[31] == Int32(corpus.tokens[s + 32]))
    }

    /// Guards against text corpora reporting no labels: their labels are the token classes of
    /// the targets.
    @Test func textCorpusLabelsAreTokenClassesOfTargets() throws {
        let text = Array("To be, or not to be: that is the question. 42 times!\n".utf8)
        let corpus = try Corpus(name: "t", tokens: text + text, validationFraction: 0.5)
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: 2, seqLen: 10, seed: 3)
        let batch = sampler.batch(atStep: 0)
        for (b, s) in sampler.windowStarts(step: 0).enumerated() {
            for t in 0..<10 {
                let expected = tokenClass(previous: corpus.tokens[s + t], current: corpus.tokens[s + t + 1]).labelID
                #expect(batch.labels[b * 10 + t] == expected)
            }
        }
    }

    /// Guards against the MTP head predicting t + 1 (a copy of the main targets) or reading past
    /// the window.
    @Test func mtpTargetsAreTokensTwoAheadAndIgnoredPastTheWindow() {
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: 2, seqLen: 8, seed: 4)
        let batch = sampler.batch(atStep: 1)
        var mtp = [Int32](repeating: 0, count: 16)
        BatchSampler.mtpTargets(from: batch.targets, into: &mtp, batch: 2, seqLen: 8)
        for (b, s) in sampler.windowStarts(step: 1).enumerated() {
            for t in 0..<8 {
                #expect(mtp[b * 8 + t] == (t == 7 ? -1 : Int32(corpus.tokens[s + t + 2])))
            }
        }
    }
}
