/// Lays the layers of one step out on a `TwoStreamSchedule`, one strategy at a time.
///
/// Per layer the graph knows three groups of work around the MoE:
/// - before: what must finish before the conventional MoE's input exists (all attention blocks
///   and the dense FFNs between them: MLA_0, FFN_0, MLA_1 for LongCat; MLA for DeepSeek-V3);
/// - beside: work independent of the MoE (LongCat's FFN_1, DeepSeek-V3's shared expert);
/// - the MoE itself: dispatch, the expert GEMMs, combine.
/// ScMoE moves the dispatch right after MLA_0 instead.
struct LayerGraph {
    let arch: MoEArchitecture
    let backwardFactor: Double
    private(set) var schedule = TwoStreamSchedule()
    /// Indices whose end lets the next layer (forward) or the layer below (backward) start.
    private var outputs: [Int] = []

    init(arch: MoEArchitecture, backwardFactor: Double) {
        self.arch = arch
        self.backwardFactor = backwardFactor
    }

    // MARK: forward

    mutating func forward(_ strategy: OverlapStrategy, _ c: LayerCosts) {
        for layer in 0..<arch.layers {
            let input = outputs
            switch strategy {
            case .sequential: outputs = sequentialLayer(layer, c, after: input)
            case .sharedOverlap: outputs = sharedOverlapLayer(layer, c, after: input)
            case .scmoe: outputs = scmoeLayer(layer, c, after: input)
            case .twoBatch: preconditionFailure("use forwardTwoBatch")
            }
        }
    }

    /// Two micro-batches of the shared-overlap graph, interleaved step by step (A's kernel,
    /// then B's), so each queue alternates between the two.
    mutating func forwardTwoBatch(_ halves: [LayerCosts]) {
        var inputs: [[Int]] = [[], []]
        for layer in 0..<arch.layers {
            let graphs = halves.map(sharedOverlapSteps)
            var placed: [[Int]] = [[], []]
            for i in graphs[0].steps.indices {
                for half in 0..<2 {
                    let step = graphs[half].steps[i]
                    let name = "L\(layer)\(half == 0 ? "A" : "B").\(step.name)"
                    placed[half].append(schedule.add(name, step.stream, step.duration,
                                                     after: step.dependencies(placed[half], input: inputs[half])))
                }
            }
            inputs = (0..<2).map { half in graphs[half].outputs.map { placed[half][$0] } }
        }
        outputs = inputs[0] + inputs[1]
    }

    /// The conventional layer with nothing overlapped: one chain.
    private mutating func sequentialLayer(_ layer: Int, _ c: LayerCosts, after input: [Int]) -> [Int] {
        var last = input
        for (name, duration) in before(c) {
            last = [schedule.add("L\(layer).\(name)", .compute, duration, after: last)]
        }
        last = [schedule.add("L\(layer).dispatch", .communication, c.dispatch, after: last)]
        let experts = arch.sharedExperts > 0 ? c.allExperts : c.routedExperts
        last = [schedule.add("L\(layer).experts", .compute, experts, after: last)]
        last = [schedule.add("L\(layer).combine", .communication, c.combine, after: last)]
        if arch.denseFfns == arch.attentionBlocks {
            last = [schedule.add("L\(layer).ffn\(arch.denseFfns - 1)", .compute, c.denseFfn, after: last)]
        }
        return last
    }

    /// One operation of a layer template; `after` holds indices of earlier steps, nil for the
    /// layer's input.
    struct Step {
        var name: String
        var stream: TwoStreamSchedule.Stream
        var duration: Double
        var after: [Int?]

        func dependencies(_ placed: [Int], input: [Int]) -> [Int] {
            after.flatMap { $0.map { [placed[$0]] } ?? input }
        }
    }

    /// The shared-overlap layer: before..., then dispatch and the beside work (if any) both
    /// after the last of before, experts after dispatch, combine after experts.
    private func sharedOverlapSteps(_ c: LayerCosts) -> (steps: [Step], outputs: [Int]) {
        var steps: [Step] = []
        for (name, duration) in before(c) {
            steps.append(Step(name: name, stream: .compute, duration: duration, after: [steps.isEmpty ? nil : steps.count - 1]))
        }
        let lastBefore = steps.count - 1
        steps.append(Step(name: "dispatch", stream: .communication, duration: c.dispatch, after: [lastBefore]))
        let dispatch = steps.count - 1
        var outputs: [Int] = []
        if let (name, duration) = beside(c) {
            steps.append(Step(name: name, stream: .compute, duration: duration, after: [lastBefore]))
            outputs.append(steps.count - 1)
        }
        steps.append(Step(name: "experts", stream: .compute, duration: c.routedExperts, after: [dispatch]))
        steps.append(Step(name: "combine", stream: .communication, duration: c.combine, after: [steps.count - 1]))
        outputs.append(steps.count - 1)
        return (steps, outputs)
    }

    private mutating func sharedOverlapLayer(_ layer: Int, _ c: LayerCosts, after input: [Int]) -> [Int] {
        let graph = sharedOverlapSteps(c)
        var placed: [Int] = []
        for step in graph.steps {
            placed.append(schedule.add("L\(layer).\(step.name)", step.stream, step.duration,
                                       after: step.dependencies(placed, input: input)))
        }
        return graph.outputs.map { placed[$0] }
    }

    /// ScMoE, single-batch overlap (the four stages of the SBO schedule).
    private mutating func scmoeLayer(_ layer: Int, _ c: LayerCosts, after input: [Int]) -> [Int] {
        let p = "L\(layer)."
        let mla0 = schedule.add(p + "mla0", .compute, c.attentionBlock, after: input)
        let dispatch = schedule.add(p + "dispatch", .communication, c.dispatch, after: [mla0])
        let ffn0 = schedule.add(p + "ffn0", .compute, c.denseFfn, after: [mla0])
        let mla1Projections = schedule.add(p + "mla1.projections", .compute, c.attentionProjections, after: [ffn0])
        let experts = schedule.add(p + "experts", .compute, c.routedExperts, after: [dispatch])
        let combine = schedule.add(p + "combine", .communication, c.combine, after: [experts])
        let mla1Core = schedule.add(p + "mla1.core", .compute, c.attentionCore, after: [mla1Projections])
        let ffn1 = schedule.add(p + "ffn1", .compute, c.denseFfn, after: [mla1Core])
        return [combine, ffn1]
    }

    /// Compute that precedes a conventional MoE: attention blocks with the dense FFNs between them.
    private func before(_ c: LayerCosts) -> [(String, Double)] {
        var steps: [(String, Double)] = []
        for i in 0..<arch.attentionBlocks {
            steps.append(("mla\(i)", c.attentionBlock))
            if i < arch.attentionBlocks - 1 && i < arch.denseFfns { steps.append(("ffn\(i)", c.denseFfn)) }
        }
        return steps
    }

    /// Work beside a conventional MoE: the last dense FFN, or the shared experts.
    private func beside(_ c: LayerCosts) -> (String, Double)? {
        if arch.denseFfns == arch.attentionBlocks { return ("ffn\(arch.denseFfns - 1)", c.denseFfn) }
        if arch.sharedExperts > 0 { return ("shared", c.sharedExperts) }
        return nil
    }

    // MARK: backward

    /// The backward pass, top layer first. Compute takes `backwardFactor` times its forward
    /// time; the two all-to-alls carry gradients the opposite way (combine's gradient goes out
    /// like a dispatch, dispatch's comes back like a combine), with the same bytes.
    mutating func backward(_ strategy: OverlapStrategy, _ forward: LayerCosts) {
        let f = backwardFactor
        for layer in (0..<arch.layers).reversed() {
            let p = "L\(layer).backward."
            let input = outputs
            let expertsTime = f * (strategy == .sequential && arch.sharedExperts > 0 ? forward.allExperts : forward.routedExperts)
            switch strategy {
            case .sequential:
                var last = input
                if let beside = beside(forward), arch.sharedExperts == 0 {
                    last = [schedule.add(p + beside.0, .compute, f * beside.1, after: last)]
                }
                last = [schedule.add(p + "combine", .communication, forward.combine, after: last)]
                last = [schedule.add(p + "experts", .compute, expertsTime, after: last)]
                last = [schedule.add(p + "dispatch", .communication, forward.dispatch, after: last)]
                for (name, duration) in before(forward).reversed() {
                    last = [schedule.add(p + name, .compute, f * duration, after: last)]
                }
                outputs = last
            case .sharedOverlap:
                let combine = schedule.add(p + "combine", .communication, forward.combine, after: input)
                var besideDone: [Int] = []
                if let beside = beside(forward) {
                    besideDone = [schedule.add(p + beside.0, .compute, f * beside.1, after: input)]
                }
                let experts = schedule.add(p + "experts", .compute, expertsTime, after: [combine])
                var last = [schedule.add(p + "dispatch", .communication, forward.dispatch, after: [experts])] + besideDone
                for (name, duration) in before(forward).reversed() {
                    last = [schedule.add(p + name, .compute, f * duration, after: last)]
                }
                outputs = last
            case .scmoe:
                let combine = schedule.add(p + "combine", .communication, forward.combine, after: input)
                let ffn1 = schedule.add(p + "ffn1", .compute, f * forward.denseFfn, after: input)
                let mla1Core = schedule.add(p + "mla1.core", .compute, f * forward.attentionCore, after: [ffn1])
                let mla1Projections = schedule.add(p + "mla1.projections", .compute, f * forward.attentionProjections, after: [mla1Core])
                let experts = schedule.add(p + "experts", .compute, expertsTime, after: [combine])
                let dispatch = schedule.add(p + "dispatch", .communication, forward.dispatch, after: [experts])
                let ffn0 = schedule.add(p + "ffn0", .compute, f * forward.denseFfn, after: [mla1Projections])
                outputs = [schedule.add(p + "mla0", .compute, f * forward.attentionBlock, after: [ffn0, dispatch])]
            case .twoBatch:
                preconditionFailure("two-batch overlap has no backward model")
            }
        }
    }
}
