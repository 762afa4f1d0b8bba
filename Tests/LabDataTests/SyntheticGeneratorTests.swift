import Foundation
import Testing
import LabData

/// Properties every generator must have, whatever its content.
@Suite struct SyntheticGeneratorTests {
    static let names = SyntheticCorpora.names

    /// Guards against generators that ignore or misuse the seed (irreproducible corpora), return
    /// the wrong length, or emit label ids without a name.
    @Test(arguments: names) func deterministicExactLengthAndNamedLabels(name: String) throws {
        let generator = try SyntheticCorpora.generator(named: name)
        #expect(generator.name == name)
        let a = generator.generate(bytes: 3001, seed: 11)
        let b = generator.generate(bytes: 3001, seed: 11)
        let c = generator.generate(bytes: 3001, seed: 12)
        #expect(a.tokens == b.tokens && a.labels == b.labels)
        #expect(a.tokens != c.tokens)
        #expect(a.tokens.count == 3001 && a.labels.count == 3001)
        #expect(a.labels.allSatisfy { Int($0) < generator.labelNames.count })
        #expect(Set(generator.labelNames).count == generator.labelNames.count)
        let big = generator.generate(bytes: 200_000, seed: 1)
        #expect(Set(big.labels).count == generator.labelNames.count, "every label occurs")
    }

    /// Guards against a registry that accepts typos or hides the valid names.
    @Test func unknownGeneratorNameListsTheNames() {
        let error = #expect(throws: DataError.self) { try SyntheticCorpora.generator(named: "copies") }
        #expect(error?.description.contains(SyntheticCorpora.names.joined(separator: ", ")) == true)
    }
}

@Suite struct CopyGeneratorTests {
    /// Guards against copies that are not exact, sources that lie ahead of the copy, and copy
    /// labels on tokens that are not part of a repeat.
    @Test func everyCopyTokenEqualsTheTokenAtTheSameOffsetOfItsSource() {
        let generator = CopyGenerator()
        let (tokens, labels, repeats) = generator.generateWithRepeats(bytes: 20_000, seed: 3)
        #expect(repeats.count > 100)
        var covered = [Bool](repeating: false, count: tokens.count)
        for r in repeats {
            #expect(r.source + r.length <= r.start)
            for i in 0..<r.length {
                #expect(tokens[r.start + i] == tokens[r.source + i])
                let expected: CopyGenerator.Label = i < generator.copyStartLength ? .copyStart : .copy
                #expect(labels[r.start + i] == expected.rawValue)
                covered[r.start + i] = true
            }
        }
        for i in tokens.indices where !covered[i] { #expect(labels[i] == CopyGenerator.Label.novel.rawValue) }
    }

    /// Guards against ambiguous copies: a fresh span must not start like a recent span, or the
    /// copy-start bytes would not identify the source (and `copy` would not have entropy 0).
    @Test func freshSpansHaveUniquePrefixesAmongRecentSpans() {
        let generator = CopyGenerator()
        let (tokens, labels) = generator.generate(bytes: 20_000, seed: 4)
        // Spans end at spaces; a span is fresh when its first label is `novel`.
        var spans: [Range<Int>] = []
        var start = 0
        for i in tokens.indices where tokens[i] == UInt8(ascii: " ") {
            spans.append(start..<i + 1)
            start = i + 1
        }
        let k = generator.copyStartLength
        for (n, span) in spans.enumerated() where labels[span.lowerBound] == CopyGenerator.Label.novel.rawValue {
            for earlier in spans[max(0, n - generator.lookbackSpans)..<n] {
                #expect(Array(tokens[earlier.prefix(k)]) != Array(tokens[span.prefix(k)]))
            }
        }
    }
}

@Suite struct MixtureGeneratorTests {
    let generator = MixtureGenerator()
    let output = MixtureGenerator().generate(bytes: 240_000, seed: 8)
    typealias Label = MixtureGenerator.Label

    /// Guards against segments whose kind byte lies about their content, or filler that is not
    /// the fixed pattern (then its entropy would not be 0).
    @Test func segmentsAreWhatTheirKindByteSays() {
        let (tokens, labels) = output
        let length = generator.segmentLength
        for segment in stride(from: 0, to: tokens.count - length + 1, by: length) {
            #expect(tokens[segment] == UInt8(ascii: "\n") && labels[segment] == Label.separator.rawValue)
            #expect(labels[segment + 1] == Label.kind.rawValue)
            let kind = try! #require(MixtureGenerator.kindBytes.firstIndex(of: tokens[segment + 1]))
            for i in 0..<(length - 2) {
                let token = tokens[segment + 2 + i], label = labels[segment + 2 + i]
                switch kind {
                case 0: #expect(label == Label.filler.rawValue && token == generator.fillerPattern[i % generator.fillerPattern.count])
                case 1: #expect(label == Label.markov.rawValue && generator.markovAlphabet.contains(token))
                default: #expect(label == Label.random.rawValue && generator.randomSet.contains(token))
                }
            }
        }
    }

    /// Guards against a Markov source whose samples do not follow its table (or an analytic
    /// entropy computed wrongly): the plug-in entropy of markov tokens given the previous byte
    /// must match (H(pi) + (L - 1) h) / L.
    @Test func markovTokensHaveTheAnalyticEntropy() throws {
        let (tokens, labels) = output
        let pairs = tokens.indices.dropFirst().filter { labels[$0] == Label.markov.rawValue }
            .map { (tokens[$0 - 1], tokens[$0]) }
        let expected = try #require(generator.analyticEntropy(label: Int(Label.markov.rawValue)))
        let measured = empiricalConditionalEntropy(pairs)
        #expect(abs(measured - expected) < 0.02, "measured \(measured), analytic \(expected)")
        // The source is neither trivial nor uniform.
        #expect(generator.markov.entropyRate > 0.3 && generator.markov.entropyRate < log(8) - 0.2)
    }

    /// Guards against random bytes drawn from the wrong set or non-uniformly, and kinds not
    /// chosen uniformly.
    @Test func randomAndKindTokensHaveTheAnalyticEntropy() throws {
        let (tokens, labels) = output
        for label in [Label.random, Label.kind] {
            var counts: [UInt8: Int] = [:]
            for i in tokens.indices where labels[i] == label.rawValue { counts[tokens[i], default: 0] += 1 }
            let expected = try #require(generator.analyticEntropy(label: Int(label.rawValue)))
            #expect(abs(empiricalEntropy(counts) - expected) < 0.01, "\(label)")
        }
        #expect(generator.analyticEntropy(label: Int(Label.filler.rawValue)) == 0)
    }
}

@Suite struct ArithmeticGeneratorTests {
    /// Guards against wrong results (the labels would then promise an entropy of 0 that no model
    /// reaches) and labels on the wrong characters.
    @Test func resultsAreCorrectSumsAndProductsAndLabelsMatchCharacters() throws {
        let (tokens, labels) = ArithmeticGenerator().generate(bytes: 20_000, seed: 6)
        typealias Label = ArithmeticGenerator.Label
        let text = String(decoding: tokens, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()  // last may be cut
        var products = 0
        for line in lines {
            let sides = line.split(separator: "=")
            let isProduct = sides[0].contains("*")
            let operands = sides[0].split(whereSeparator: { $0 == "+" || $0 == "*" }).compactMap { Int($0) }
            try #require(sides.count == 2 && operands.count == 2)
            #expect(Int(sides[1]) == (isProduct ? operands[0] * operands[1] : operands[0] + operands[1]))
            products += isProduct ? 1 : 0
        }
        #expect(products > lines.count / 3 && products < 2 * lines.count / 3)
        var afterEquals = false
        for (token, label) in zip(tokens, labels) {
            let expected: Label
            switch token {
            case UInt8(ascii: "\n"): expected = .newline; afterEquals = false
            case UInt8(ascii: "="): expected = .symbol; afterEquals = true
            case UInt8(ascii: "+"), UInt8(ascii: "*"): expected = .symbol
            default: expected = afterEquals ? .result : .operand
            }
            #expect(label == expected.rawValue)
        }
    }
}

@Suite struct StructuredGeneratorTests {
    /// Guards against unbalanced or crossed brackets (then `close` would not be predictable
    /// from context), labels on the wrong bytes and values of the wrong type for their key.
    @Test func bracketsBalanceAndLabelsMatchTheGrammar() throws {
        let generator = StructuredGenerator()
        let (tokens, labels) = generator.generate(bytes: 30_000, seed: 2)
        typealias Label = StructuredGenerator.Label
        let lastNewline = try #require(tokens.lastIndex(of: UInt8(ascii: "\n")))
        var stack: [UInt8] = []
        var maxDepth = 0
        var key = ""         // the key being read
        var valueOf = ""     // the key whose value starts at the next byte
        var value = ""       // the scalar value being read
        for i in 0...lastNewline {
            let token = tokens[i], label = Label(rawValue: labels[i])!
            if !valueOf.isEmpty {
                let expected: (UInt8) -> Bool = switch valueOf {
                case "data": { $0 == UInt8(ascii: "{") }
                case "items", "tags": { $0 == UInt8(ascii: "[") }
                case "name": { ByteCategory($0) == .letter }
                default: { ByteCategory($0) == .digit }
                }
                #expect(expected(token), "value of \(valueOf)")
                valueOf = ""
            }
            switch token {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                #expect(label == .open)
                stack.append(token)
                maxDepth = max(maxDepth, stack.filter { $0 == UInt8(ascii: "{") }.count)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                #expect(label == .close)
                #expect(stack.popLast() == (token == UInt8(ascii: "}") ? UInt8(ascii: "{") : UInt8(ascii: "[")))
            case UInt8(ascii: "\n"):
                #expect(label == .newline && stack.isEmpty)
            case UInt8(ascii: ":"), UInt8(ascii: ","):
                #expect(label == .punct)
            default:
                #expect(label == .key || label == .value)
                if label == .key { key.append(Character(UnicodeScalar(token))) }
                else { value.append(Character(UnicodeScalar(token))) }
            }
            if label != .key && !key.isEmpty {
                #expect(StructuredGenerator.keys.contains(key) && token == UInt8(ascii: ":"))
                valueOf = key
                key = ""
            }
            if label != .value && !value.isEmpty {
                #expect(value.allSatisfy(\.isNumber) || value.allSatisfy(\.isLetter))
                value = ""
            }
        }
        #expect(maxDepth == generator.maxDepth)
        #expect(generator.analyticEntropy(label: Int(Label.newline.rawValue)) == 0)
    }
}

@Suite struct SuiteGeneratorTests {
    /// Guards against suite labels that point into the wrong generator's names, or chunks that
    /// mix generators.
    @Test func labelsArePrefixedAndEachChunkComesFromOneGenerator() {
        let suite = SuiteGenerator()
        #expect(suite.labelNames.contains("copy/copy-start") && suite.labelNames.contains("mixture/markov"))
        #expect(suite.labelNames.count == suite.parts.map(\.labelNames.count).reduce(0, +))
        let (_, labels) = suite.generate(bytes: 20 * suite.chunkBytes, seed: 5)
        let offsets = suite.labelOffsets + [suite.labelNames.count]
        var partsSeen = Set<Int>()
        for chunk in stride(from: 0, to: labels.count, by: suite.chunkBytes) {
            let part = offsets.lastIndex { $0 <= Int(labels[chunk]) }!
            partsSeen.insert(part)
            let range = offsets[part]..<offsets[part + 1]
            #expect(labels[chunk..<chunk + suite.chunkBytes].allSatisfy { range.contains(Int($0)) })
        }
        #expect(partsSeen.count == 4)
        let markov = suite.labelNames.firstIndex(of: "mixture/markov")!
        #expect(suite.analyticEntropy(label: markov) == MixtureGenerator().analyticEntropy(label: 1))
    }
}
