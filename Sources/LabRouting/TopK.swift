// Top-k selection over biased router scores: the fast kernel and the plain-sort oracle.
//
// E = N + Z experts per token; M = how many best entries are kept (K, or K + 1 to also learn
// the margin). Score of expert e: p[e] + b[e] (the bias chooses; it never weights).
//
// Performance notes (Swift 6.3, measured): Swift's SIMD comparisons compile to scalar lane
// loops, LLVM does not vectorise float max reductions without fast-math, and it does not
// vectorise a `for-in` over a range where the same `while` loop vectorises. Hence a monotone
// Float -> Int32 key and `while` loops in the hot paths.

/// A monotone integer image of a finite float: `a < b` exactly when `key(a) < key(b)`, and
/// equal floats give equal keys (-0 is first turned into +0).
@inline(__always)
func orderedKey(_ x: Float) -> Int32 {
    let bits = Int32(bitPattern: (x + 0).bitPattern)
    return bits ^ ((bits >> 31) & 0x7FFF_FFFF)
}

/// Keys per block of the kernel's coarse pass.
let topKBlock = 16

/// Scratch entries the kernel needs for E experts (keys, candidate ids, per-block lists).
func topKScratchCount(experts E: Int) -> Int { 3 * E + 3 * ((E + topKBlock - 1) / topKBlock) }

/// Above this many candidates the kernel ranks them with an insertion list instead of by
/// counting (counting costs candidates^2; only small E or near-uniform scores get there).
let topKRankLimit = 32

/// Keeps the M best biased scores `p[e] + b[e]` of one token, best first; ties go to the
/// lower expert id.
///
/// Steps, none of which sorts all E scores:
/// 1. keys[e] = orderedKey(p[e] + b[e]) and the maximum of every block of 16 keys (one
///    vectorised pass);
/// 2. split the blocks into M runs: the smallest run maximum is a first bar (the M run maxima
///    are M distinct experts at or above it); list the blocks whose maximum reaches it;
/// 3. raise the bar to the M-th largest listed block maximum (M distinct experts still reach
///    it, and every one of the M best lies in a block that reaches it);
/// 4. compact the keys at or above the bar, ascending ids, from the blocks that reach it
///    (about M blocks and a few more than M keys on a softmax router);
/// 5. rank each candidate by counting those ahead of it (higher key, or equal key and lower
///    id) in branch-free loops; ranks 0..<M are the answer. More than `topKRankLimit`
///    candidates go through an insertion list instead.
/// No allocation; scratch is the caller's.
///
/// - Parameters:
///   - probs: `[E]` unbiased router probabilities of the token.
///   - bias: `[E]` expert bias.
///   - scratch: `[topKScratchCount(E)]`.
///   - topKeys: `[M]` out, keys of the best scores, descending.
///   - topIds: `[M]` out, their expert ids.
/// - Precondition: `1 <= M <= E`; scores finite (a NaN ranks by its bit pattern).
@inline(never)
func selectTopScores(probs p: UnsafePointer<Float>, bias b: UnsafePointer<Float>, experts E: Int,
                     keep M: Int, scratch keys: UnsafeMutablePointer<Int32>,
                     topKeys: UnsafeMutablePointer<Int32>, topIds: UnsafeMutablePointer<Int32>) {
    let B = topKBlock
    let blocks = (E + B - 1) / B
    let blockMax = keys + E                 // [blocks]
    let blockList = blockMax + blocks       // [blocks] ids of listed blocks
    let listedMax = blockList + blocks      // [blocks] their maxima
    let candidateIds = listedMax + blocks   // [E]
    let work = candidateIds + E             // [E] per-candidate counters

    // 1. Keys and block maxima.
    let fullBlocks = E / B
    var block = 0
    while block < fullBlocks {
        blockMax[block] = keysOfBlock(probs: p + block &* B, bias: b + block &* B, keys: keys + block &* B)
        block &+= 1
    }
    if fullBlocks < blocks {
        var e = fullBlocks &* B
        var m = Int32.min
        while e < E {
            keys[e] = orderedKey(p[e] + b[e])
            m = max(m, keys[e])
            e &+= 1
        }
        blockMax[fullBlocks] = m
    }

    var count = 0
    if blocks >= M {
        // 2. First bar; list the blocks that reach it.
        var bar = Int32.max
        for run in 0..<M { bar = min(bar, maxKey(blockMax, from: blocks * run / M, to: blocks * (run + 1) / M)) }
        var listed = 0
        block = 0
        while block < blocks {
            let m = blockMax[block]
            blockList[listed] = Int32(truncatingIfNeeded: block)
            listedMax[listed] = m
            listed &+= m >= bar ? 1 : 0
            block &+= 1
        }
        // 3. bar = the M-th largest listed maximum: work[j] counts the listed maxima >= listedMax[j].
        var j = 0
        while j < listed { work[j] = 0; j &+= 1 }
        var i = 0
        while i < listed {
            let m = listedMax[i]
            j = 0
            while j < listed { work[j] &+= m >= listedMax[j] ? 1 : 0; j &+= 1 }
            i &+= 1
        }
        j = 0
        while j < listed { bar = work[j] >= M ? max(bar, listedMax[j]) : bar; j &+= 1 }
        // 4. Compact the candidates in place (the write index never passes the read index).
        j = 0
        while j < listed {
            if listedMax[j] >= bar {
                let lo = Int(blockList[j]) &* B
                var mask = lo &+ B <= E ? blockMask(keys + lo, atLeast: bar)
                                        : tailMask(keys + lo, count: E &- lo, atLeast: bar)
                while mask != 0 {
                    let i = lo &+ mask.trailingZeroBitCount
                    keys[count] = keys[i]
                    candidateIds[count] = Int32(truncatingIfNeeded: i)
                    count &+= 1
                    mask &= mask &- 1
                }
            }
            j &+= 1
        }
    } else {
        // Fewer blocks than M: every expert is a candidate.
        count = E
        var e = 0
        while e < E { candidateIds[e] = Int32(truncatingIfNeeded: e); e &+= 1 }
    }

    // 5. Rank: work[j] = #{i < j: key_i >= key_j} + #{i > j: key_i > key_j}.
    if count <= topKRankLimit {
        var j = 0
        while j < count { work[j] = 0; j &+= 1 }
        var i = 0
        while i < count {
            let k = keys[i]
            j = 0
            while j < i { work[j] &+= k > keys[j] ? 1 : 0; j &+= 1 }
            j = i &+ 1
            while j < count { work[j] &+= k >= keys[j] ? 1 : 0; j &+= 1 }
            i &+= 1
        }
        j = 0
        while j < count {
            let r = Int(work[j])
            if r < M {
                topKeys[r] = keys[j]
                topIds[r] = candidateIds[j]
            }
            j &+= 1
        }
    } else {
        for i in 0..<M { insertKey(keys[i], id: candidateIds[i], filled: i, topKeys: topKeys, topIds: topIds) }
        for i in M..<count where keys[i] > topKeys[M - 1] {
            insertKey(keys[i], id: candidateIds[i], filled: M - 1, topKeys: topKeys, topIds: topIds)
        }
    }
}

/// Writes the 16 keys of one full block and returns their maximum (a fixed-size loop the
/// compiler turns into a few vector instructions).
@inline(__always)
private func keysOfBlock(probs p: UnsafePointer<Float>, bias b: UnsafePointer<Float>,
                         keys: UnsafeMutablePointer<Int32>) -> Int32 {
    var m = Int32.min, i = 0
    while i < 16 {
        let k = orderedKey(p[i] + b[i])
        keys[i] = k
        m = max(m, k)
        i &+= 1
    }
    return m
}

/// Bit i set when keys[i] >= bar, for a full block of 16 (a vectorised compare).
@inline(__always)
private func blockMask(_ keys: UnsafePointer<Int32>, atLeast bar: Int32) -> UInt32 {
    var mask: UInt32 = 0, i = 0
    while i < 16 {
        mask |= (keys[i] >= bar ? 1 : 0) << UInt32(i)
        i &+= 1
    }
    return mask
}

/// `blockMask` for a last, shorter block.
@inline(__always)
private func tailMask(_ keys: UnsafePointer<Int32>, count: Int, atLeast bar: Int32) -> UInt32 {
    var mask: UInt32 = 0, i = 0
    while i < count {
        mask |= (keys[i] >= bar ? 1 : 0) << UInt32(i)
        i &+= 1
    }
    return mask
}

/// max of keys[from..<to] (Int32.min when empty).
@inline(__always)
private func maxKey(_ keys: UnsafePointer<Int32>, from: Int, to: Int) -> Int32 {
    var m = Int32.min, i = from
    while i < to {
        m = max(m, keys[i])
        i &+= 1
    }
    return m
}

/// Inserts `(key, id)` into the descending list at or before index `filled`, shifting lower
/// entries down; whatever stood at index `filled` drops out (nothing valid while the list
/// fills; the M-th best when `filled` = M - 1 on a full list). Equal keys keep their order, so
/// the earlier (lower) id stays ahead.
@inline(__always)
private func insertKey(_ key: Int32, id: Int32, filled: Int,
                       topKeys: UnsafeMutablePointer<Int32>, topIds: UnsafeMutablePointer<Int32>) {
    var pos = filled
    while pos > 0 && key > topKeys[pos - 1] {
        topKeys[pos] = topKeys[pos - 1]
        topIds[pos] = topIds[pos - 1]
        pos -= 1
    }
    topKeys[pos] = key
    topIds[pos] = id
}

/// Lends `body` a top list of `capacity` keys and ids on the stack (capacity is K + 1, a
/// few dozen bytes, so no heap allocation).
@inline(__always)
func withTopList(capacity: Int, _ body: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void) {
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * capacity) { buffer in
        body(buffer.baseAddress!, buffer.baseAddress! + capacity)
    }
}

/// Sorts `count` expert ids ascending in place (insertion sort; count is K, a handful).
@inline(__always)
func sortIdsAscending(_ ids: UnsafeMutablePointer<Int32>, count: Int) {
    if count < 2 { return }
    for i in 1..<count {
        let v = ids[i]
        var j = i
        while j > 0 && ids[j - 1] > v {
            ids[j] = ids[j - 1]
            j -= 1
        }
        ids[j] = v
    }
}

/// The oracle for the top-k kernel: sorts all E experts of one token by biased score
/// (descending, ties by ascending id) and returns the first M as (score, id) pairs.
/// Allocates; for tests and checks only.
public func referenceTopScores(probs: [Float], bias: [Float], keep M: Int) -> [(score: Float, id: Int)] {
    var ranked: [(score: Float, id: Int)] = []
    for e in 0..<probs.count { ranked.append((score: probs[e] + bias[e], id: e)) }
    ranked.sort { a, b in a.score != b.score ? a.score > b.score : a.id < b.id }
    return Array(ranked.prefix(M))
}
