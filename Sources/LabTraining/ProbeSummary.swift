import LabKernels
import LabRecords

// Summaries of a probe's rows (Probe.swift): marginal benefits by allocated count, layer and
// label; Spearman's rho between the router's allocation and the benefit of +1, with a
// bootstrap interval over sequences; and the allocation gap against a greedy and a random
// reallocation of the same number of FFN experts. Benefits and losses in nats per token.
//
//   benefit_plus  = loss - loss(+1)    what one FFN expert more would buy
//   benefit_minus = loss(-1) - loss    what the token's last FFN expert buys

/// One token-layer's measured losses, for the reallocations.
public struct MeasuredLosses: Sendable, Equatable {
    public var loss: Double
    public var plus: Double?
    public var minus: Double?
    public init(loss: Double, plus: Double?, minus: Double?) { self.loss = loss; self.plus = plus; self.minus = minus }

    /// Loss after an FFN-count change of `delta` (-1, 0, +1).
    func after(_ delta: Int) -> Double { delta > 0 ? plus! : delta < 0 ? minus! : loss }
}

/// A reallocation of FFN experts over tokens: each token's change (-1, 0 or +1) of one layer.
public struct Reallocation: Sendable, Equatable {
    public var delta: [Int]
    /// Mean loss over the tokens after the change.
    public var meanLoss: Double
    /// Change of the total number of FFN experts (never positive: the budget is the router's).
    public var budgetChange: Int { delta.reduce(0, +) }
}

/// The reallocation by measured one-step benefits within the router's budget: with a price
/// lambda per FFN expert, each token takes the best of its measured options (keep: 0, +1:
/// gain - lambda, -1: saving + lambda, where gain = loss - loss(+1) and saving = loss -
/// loss(-1); ties go to the option using fewer experts), at the smallest lambda >= 0 whose
/// choices add no FFN experts in all. Greedy by marginal benefit: experts flow from the tokens
/// that lose least by giving one up to the tokens that gain most by getting one. A token moves
/// at most one step (only one-step benefits are measured), so this estimates what a better
/// router could gain at that budget from measured benefits.
public func greedyReallocation(_ tokens: [MeasuredLosses]) -> Reallocation {
    func choices(_ lambda: Double) -> [Int] {
        tokens.map { t in
            var best = 0, value = 0.0
            if let m = t.minus, t.loss - m + lambda >= value { best = -1; value = t.loss - m + lambda }
            if let p = t.plus, t.loss - p - lambda > value { best = 1 }
            return best
        }
    }
    var prices: [Double] = [0]
    for t in tokens {
        let gain = t.plus.map { t.loss - $0 }, saving = t.minus.map { t.loss - $0 }
        if let gain { prices.append(gain) }
        if let saving { prices.append(-saving) }
        if let gain, let saving { prices.append((gain - saving) / 2) }
    }
    prices = prices.filter { $0 >= 0 && $0.isFinite }.sorted()
    // The total is non-increasing in lambda; at the largest price nobody takes +1.
    var lo = 0, hi = prices.count - 1
    while lo < hi {
        let mid = (lo + hi) / 2
        if choices(prices[mid]).reduce(0, +) <= 0 { hi = mid } else { lo = mid + 1 }
    }
    var delta = choices(prices[lo])
    // A jump past the budget (a token switching from +1 to -1) may leave experts unspent:
    // take back the costliest give-ups (saving < 0) while the total is below the router's.
    // Then every +1 gains more than lambda, every kept -1 costs at most lambda, and the total
    // is 0 (or every -1 saves), so the loss is never above the router's.
    let costly = tokens.indices.filter { delta[$0] < 0 && tokens[$0].minus! > tokens[$0].loss }
        .sorted { tokens[$0].minus! - tokens[$0].loss > tokens[$1].minus! - tokens[$1].loss }
    var total = delta.reduce(0, +)
    for i in costly where total < 0 { delta[i] = 0; total += 1 }
    return Reallocation(delta: delta, meanLoss: meanLoss(tokens, delta))
}

/// The mean loss of `moves` random one-expert moves (a random giver with -1 measured to a
/// random other taker with +1 measured, each token moving at most once), averaged over
/// `draws` draws: the same budget as the router's, spent without regard to benefit.
public func randomReallocationLoss(_ tokens: [MeasuredLosses], moves: Int, draws: Int, seed: UInt64) -> Double {
    guard !tokens.isEmpty else { return .nan }
    var random = LabRandom(seed: seed)
    var sum = 0.0
    for _ in 0..<draws {
        var delta = [Int](repeating: 0, count: tokens.count)
        var order = Array(tokens.indices)
        for i in order.indices.reversed() { order.swapAt(i, random.nextInt(below: i + 1)) }
        var givers = order.filter { tokens[$0].minus != nil }[...]
        var takers = order.reversed().filter { tokens[$0].plus != nil }[...]
        var made = 0
        while made < moves {
            while let i = givers.first, delta[i] != 0 { givers.removeFirst() }
            while let i = takers.first, delta[i] != 0 || i == givers.first { takers.removeFirst() }
            guard let gi = givers.popFirst(), let ti = takers.popFirst() else { break }
            delta[gi] = -1; delta[ti] = 1; made += 1
        }
        sum += meanLoss(tokens, delta)
    }
    return sum / Double(draws)
}

private func meanLoss(_ tokens: [MeasuredLosses], _ delta: [Int]) -> Double {
    tokens.isEmpty ? .nan : zip(tokens, delta).reduce(0) { $0 + $1.0.after($1.1) } / Double(tokens.count)
}

/// Spearman's rank correlation of two equally long samples: the Pearson correlation of their
/// mid-ranks (ties share their mean rank). NaN when either is constant or shorter than 2.
public func spearmanRho(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "spearmanRho: samples of \(x.count) and \(y.count) values")
    guard x.count > 1 else { return .nan }
    let rx = midRanks(x), ry = midRanks(y)
    let mean = Double(x.count + 1) / 2
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices {
        let a = rx[i] - mean, b = ry[i] - mean
        sxy += a * b; sxx += a * a; syy += b * b
    }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
}

/// 1-based ranks, ties given their mid-rank.
func midRanks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var ranks = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
        for k in i...j { ranks[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
    }
    return ranks
}

/// Spearman's rho of the pooled (x, y) pairs of all clusters, with a percentile bootstrap
/// interval resampling whole clusters (sequences) with replacement. Seeded.
public func bootstrapSpearman(pairs clusters: [[(x: Double, y: Double)]], resamples: Int, level: Double = 0.95,
                              seed: UInt64 = 0x5EED) -> Estimate {
    let pooled = clusters.flatMap { $0 }
    let value = spearmanRho(pooled.map(\.x), pooled.map(\.y))
    var random = LabRandom(seed: seed)
    var replicates: [Double] = []
    for _ in 0..<resamples where !clusters.isEmpty {
        var xs: [Double] = [], ys: [Double] = []
        for _ in clusters.indices {
            for p in clusters[random.nextInt(below: clusters.count)] { xs.append(p.x); ys.append(p.y) }
        }
        let rho = spearmanRho(xs, ys)
        if !rho.isNaN { replicates.append(rho) }
    }
    guard !replicates.isEmpty else { return Estimate(value: value, low: .nan, high: .nan) }
    replicates.sort()
    let tail = (1 - level) / 2
    return Estimate(value: value, low: quantile(replicates, tail), high: quantile(replicates, 1 - tail))
}

/// The summary rows of a probe of the checkpoint at `step`: per layer (and -1 over all probed
/// layers) the mean benefits by FFN count, label and overall, the Spearman rho of FFN count
/// against benefit_plus, and the allocation gap (see `greedyReallocation`). `targetLabels`
/// groups by the label of the predicted token instead of the token's own.
public func probeSummaries(_ rows: [ProbeTokenRow], step: Int, targetLabels: Bool, resamples: Int,
                           seed: UInt64 = 0x5EED) -> [ProbeSummaryRow] {
    let layers = Array(Set(rows.map(\.layer))).sorted()
    var out: [ProbeSummaryRow] = []
    for layer in [-1] + layers {
        let subset = layer < 0 ? rows : rows.filter { $0.layer == layer }
        func mean(_ statistic: String, _ grouping: String, _ values: [Double]) {
            guard !values.isEmpty else { return }
            out.append(ProbeSummaryRow(step: step, statistic: statistic, layer: layer, grouping: grouping,
                                       value: values.reduce(0, +) / Double(values.count), count: values.count))
        }
        func benefits(_ grouping: String, _ group: [ProbeTokenRow]) {
            mean("benefit_plus", grouping, group.compactMap { r in r.lossPlus.map { r.loss - $0 } })
            mean("benefit_minus", grouping, group.compactMap { r in r.lossMinus.map { $0 - r.loss } })
        }
        benefits("all", subset)
        for c in Set(subset.map(\.ffnExperts)).sorted() { benefits("ffn=\(c)", subset.filter { $0.ffnExperts == c }) }
        let label = { (r: ProbeTokenRow) in (targetLabels ? r.targetLabel : r.label) ?? "unlabelled" }
        for name in Set(subset.map(label)).sorted() { benefits(name, subset.filter { label($0) == name }) }
        // Allocation against benefit of +1, clustered by sequence.
        let withPlus = subset.filter { $0.lossPlus != nil }
        let clusters = Dictionary(grouping: withPlus, by: \.sequence).values.map { group in
            group.map { (x: Double($0.ffnExperts), y: $0.loss - $0.lossPlus!) }
        }
        let rho = bootstrapSpearman(pairs: clusters, resamples: resamples, seed: seed)
        out.append(ProbeSummaryRow(step: step, statistic: "spearman_ffn_benefit_plus", layer: layer, grouping: "all",
                                   value: rho.value, low: rho.low, high: rho.high, count: withPlus.count))
        // Allocation gap: each layer's budget is reallocated within that layer.
        var router = 0.0, greedy = 0.0, random = 0.0, moves = 0, n = 0
        for l in (layer < 0 ? layers : [layer]) {
            let measured = subset.filter { $0.layer == l }.map { MeasuredLosses(loss: $0.loss, plus: $0.lossPlus, minus: $0.lossMinus) }
            let g = greedyReallocation(measured)
            let taken = g.delta.filter { $0 > 0 }.count
            router += measured.reduce(0) { $0 + $1.loss }
            greedy += g.meanLoss * Double(measured.count)
            random += randomReallocationLoss(measured, moves: taken, draws: 100, seed: seed &+ UInt64(l)) * Double(measured.count)
            moves += taken; n += measured.count
        }
        guard n > 0 else { continue }
        for (name, value) in [("loss_router", router), ("loss_greedy", greedy), ("loss_random", random)] {
            out.append(ProbeSummaryRow(step: step, statistic: name, layer: layer, grouping: "all", value: value / Double(n), count: n))
        }
        out.append(ProbeSummaryRow(step: step, statistic: "gap_greedy", layer: layer, grouping: "all",
                                   value: (router - greedy) / Double(n), count: n))
        out.append(ProbeSummaryRow(step: step, statistic: "gap_random", layer: layer, grouping: "all",
                                   value: (random - router) / Double(n), count: n))
        out.append(ProbeSummaryRow(step: step, statistic: "greedy_moves", layer: layer, grouping: "all",
                                   value: Double(moves), count: n))
    }
    return out
}
