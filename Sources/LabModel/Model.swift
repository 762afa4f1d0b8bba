import Dispatch
import LabConfig
import LabKernels

// The whole LongCat model: token embedding -> L ScMoE layers -> final RMSNorm -> LM head,
// cross-entropy on the next byte, plus the optional hidden z-loss and MTP head.
// R = B*T rows, D width, V vocabulary, E = N+Z experts.

/// The losses of one pass (means over counted tokens; `total` is what is differentiated).
public struct Losses: Sendable, Equatable {
    public var total = 0.0, lm = 0.0, balance = 0.0, z = 0.0, mtp = 0.0
    public init() {}
}

/// A LongCat model with its parameters, gradients, routing biases and activation memory.
/// Parameters and gradients are each one flat buffer laid out by `layout`.
public final class LongCatModel {
    public let config: LabConfig
    public let layout: ParameterLayout
    /// Rows (B*T) the activation memory was sized for.
    public let maxBatch: Int, seqLen: Int
    public let params: FloatBuffer
    public let grads: FloatBuffer
    /// Expert bias b per layer [E]: chooses experts, never weights them, receives no gradient.
    public let bias: [FloatBuffer]
    /// Activations of the last forward pass, for backward and for telemetry.
    public let saved: [LayerSaved]
    /// hidden[l] is layer l's input [R, D]; hidden[L] the last layer's output.
    let hidden: [FloatBuffer]
    let finalNormed: FloatBuffer, finalRstd: FloatBuffer, logits: FloatBuffer
    let mlaShape: MLAShape
    let moeShape: MoEShape
    let rope: RopeTable
    let mlaScratch: MLAScratch, ffnScratch: FFNScratch, moeScratch: MoEScratch, layerScratch: LayerScratch
    let dHidden: [FloatBuffer]   // two [R, D] ping-pong buffers
    let mtp: MTPHead?

    public init(config: LabConfig, batch: Int, seqLen: Int) {
        self.config = config
        let m = config.model
        layout = ParameterLayout(m)
        maxBatch = batch; self.seqLen = seqLen
        let r = batch * seqLen, d = m.hiddenSize
        params = FloatBuffer(count: layout.count); grads = FloatBuffer(count: layout.count)
        bias = (0..<m.numLayers).map { _ in FloatBuffer(count: m.nRoutedExperts + m.zeroExpertNum) }
        mlaShape = MLAShape(m); moeShape = MoEShape(config)
        rope = RopeTable(dim: m.qkRopeHeadDim, maxPositions: seqLen, theta: m.ropeTheta)
        saved = (0..<m.numLayers).map { _ in LayerSaved(config, mla: MLAShape(m), moe: MoEShape(config), batch: batch, seqLen: seqLen) }
        hidden = (0...m.numLayers).map { _ in FloatBuffer(count: r * d) }
        finalNormed = FloatBuffer(count: r * d); finalRstd = FloatBuffer(count: r); logits = FloatBuffer(count: r * m.vocabSize)
        mlaScratch = MLAScratch(mlaShape, rows: r)
        ffnScratch = FFNScratch(rows: r, hidden: m.ffnHiddenSize)
        moeScratch = MoEScratch(moeShape, rows: r)
        layerScratch = LayerScratch(rows: r, d: d)
        dHidden = [FloatBuffer(count: r * d), FloatBuffer(count: r * d)]
        mtp = layout.mtp.map { MTPHead(config: config, offsets: $0, mla: MLAShape(m), batch: batch, seqLen: seqLen) }
    }

    /// Normal(0, std) matrices, normal(0, embedding_std) embedding, RMSNorm weights 1, bias 0.
    public func initializeWeights(seed: UInt64) {
        var rng = LabRandom(seed: seed)
        let i = config.initialization
        for s in layout.slices {
            if s.shape.count == 1 {
                for j in s.range { params.ptr[j] = 1 }
            } else {
                let std = s.offset == layout.embedding ? i.embeddingStd : i.std
                rng.fillNormal(params.ptr + s.offset, s.count, std: Float(std))
            }
        }
        for b in bias { b.zero() }
    }

    func context(layer l: Int, batch: Int) -> LayerContext {
        let m = config.model
        return LayerContext(w: UnsafePointer(params.ptr), g: grads.ptr, offsets: layout.layers[l],
                            bias: UnsafePointer(bias[l].ptr), mla: mlaShape, moe: moeShape, d: m.hiddenSize,
                            ffnHidden: m.ffnHiddenSize, batch: batch, seqLen: seqLen, eps: Float(m.rmsNormEps),
                            sequential: m.layout == .sequential, rope: rope)
    }

    // A training step is forward (with the losses), zeroGrad, backward, as in llm.c; `pass`
    // strings them together. tokens, targets, mtpTargets: [batch*T]; a negative target is
    // ignored; `mtpTargets` (token t+2) is needed only when the MTP head is on.

    /// Forward pass with the losses: embedding, layers, final norm, LM head, cross-entropy, and
    /// the z-loss and MTP losses when on. Keeps what `backward` needs.
    @discardableResult
    public func forward(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>? = nil,
                        batch: Int) -> Losses {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's activation memory (\(maxBatch))")
        precondition(mtp == nil || mtpTargets != nil, "the MTP head needs mtpTargets")
        let m = config.model, d = m.hiddenSize, r = batch * seqLen
        let start = DispatchTime.now().uptimeNanoseconds
        var losses = Losses()
        var laps = ProfileLaps()
        embeddingForward(out: hidden[0].ptr, tokens: tokens, table: params.ptr + layout.embedding, rows: r, dim: d)
        laps.lap(.embedding)
        for l in 0..<m.numLayers {
            losses.balance += layerForward(out: hidden[l + 1].ptr, x: hidden[l].ptr, context: context(layer: l, batch: batch),
                                           saved: saved[l], scratch: layerScratch, mlaScratch: mlaScratch,
                                           ffnScratch: ffnScratch, moeScratch: moeScratch)
        }
        laps.lap(.other)   // the layers timed their blocks; what is left is glue
        (losses.lm, losses.z) = headForward(targets: targets, rows: r)
        laps.lap(.lmHeadAndLoss)
        if let mtp, let mtpTargets {
            losses.mtp = mtp.forward(model: self, last: hidden[m.numLayers].ptr, targets: targets, mtpTargets: mtpTargets,
                                     batch: batch)
            laps.lap(.mtp)
        }
        losses.total = losses.lm + losses.balance + losses.z + m.mtpLossCoef * losses.mtp
        _ = Profiler.addPhase(backward: false, since: start)
        return losses
    }

    /// Sets every parameter gradient to 0 (backward adds into them).
    public func zeroGrad() { grads.zero() }

    /// Backward of the last `forward` (same tokens, targets and batch): adds the gradient of
    /// `Losses.total` into `grads` (call `zeroGrad` first). Overwrites the logits with their gradient.
    public func backward(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>? = nil,
                         batch: Int) {
        let m = config.model, d = m.hiddenSize, r = batch * seqLen
        let start = DispatchTime.now().uptimeNanoseconds
        let dLast = dHidden[0]   // [R, D] gradient of the last layer's output
        var laps = ProfileLaps(backward: true)
        headBackward(dLast: dLast, targets: targets, rows: r)
        laps.lap(.lmHeadAndLoss)
        if let mtp, let mtpTargets {
            mtp.backward(model: self, last: hidden[m.numLayers].ptr, dLast: dLast.ptr, targets: targets,
                         mtpTargets: mtpTargets, batch: batch)
            laps.lap(.mtp)
        }
        // Layers in reverse: dHidden ping-pongs between the layer's output and input gradient.
        var cur = 0
        for l in stride(from: m.numLayers - 1, through: 0, by: -1) {
            let next = 1 - cur
            dHidden[next].zero()
            layerBackward(dx: dHidden[next].ptr, dOut: dHidden[cur].ptr, x: hidden[l].ptr,
                          context: context(layer: l, batch: batch), saved: saved[l], scratch: layerScratch,
                          mlaScratch: mlaScratch, ffnScratch: ffnScratch, moeScratch: moeScratch)
            cur = next
        }
        laps.lap(.other)
        embeddingBackward(dTable: grads.ptr + layout.embedding, dOut: dHidden[cur].ptr, tokens: tokens, rows: r, dim: d)
        laps.lap(.embedding)
        _ = Profiler.addPhase(backward: true, since: start)
    }

    /// Forward pass; with `train`, also zeroGrad and the backward pass into `grads`.
    @discardableResult
    public func pass(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>? = nil,
                     batch: Int, train: Bool) -> Losses {
        let losses = forward(tokens: tokens, targets: targets, mtpTargets: mtpTargets, batch: batch)
        if train {
            zeroGrad()
            backward(tokens: tokens, targets: targets, mtpTargets: mtpTargets, batch: batch)
        }
        return losses
    }

    /// Final norm, LM head and cross-entropy of the last hidden state; (mean LM loss, z-loss).
    /// The z-loss kernel also writes its gradient, here into a scratch (`dHidden[1]`, free
    /// during the forward pass).
    private func headForward(targets: UnsafePointer<Int32>, rows r: Int) -> (lm: Double, z: Double) {
        let m = config.model, d = m.hiddenSize, v = m.vocabSize
        let last = hidden[m.numLayers].ptr
        logitsForward(rows: r)
        let ce = crossEntropyLoss(logits: logits.ptr, targets: targets, rows: r, vocab: v)
        let z = m.hiddenZLossCoef > 0
            ? hiddenZLossForwardBackward(dz: dHidden[1].ptr, z: last, rows: r, dim: d, coef: Float(m.hiddenZLossCoef))
            : 0
        return (ce.lossSum / Double(max(ce.counted, 1)), z)
    }

    /// Final norm and LM head of the last hidden state into `logits`. [R, V]
    func logitsForward(rows r: Int) {
        let m = config.model, d = m.hiddenSize, v = m.vocabSize, w = UnsafePointer(params.ptr)
        rmsNormForward(out: finalNormed.ptr, rstd: finalRstd.ptr, x: hidden[m.numLayers].ptr, weight: w + layout.finalNorm,
                       rows: r, dim: d, eps: Float(m.rmsNormEps))
        linearForward(y: logits.ptr, x: finalNormed.ptr, w: w + layout.lmHead, rows: r, inFeatures: d, outFeatures: v)
    }

    /// Backward of `headForward`: dLast = d(lm + z-loss)/d(last hidden state). [R, D]
    private func headBackward(dLast: FloatBuffer, targets: UnsafePointer<Int32>, rows r: Int) {
        let m = config.model, d = m.hiddenSize, v = m.vocabSize, w = UnsafePointer(params.ptr), g = grads.ptr
        let last = hidden[m.numLayers].ptr
        dLast.zero()
        let counted = countTargets(targets, r)
        _ = crossEntropyForwardBackward(dLogits: logits.ptr, logits: logits.ptr, targets: targets, rows: r,
                                        vocab: v, gradScale: 1 / Float(max(counted, 1)))
        let dFinal = dHidden[1]   // [R, D]
        dFinal.zero()
        linearBackward(dx: dFinal.ptr, dw: g + layout.lmHead, dy: logits.ptr, x: finalNormed.ptr,
                       w: w + layout.lmHead, rows: r, inFeatures: d, outFeatures: v)
        rmsNormBackward(dx: dLast.ptr, dWeight: g + layout.finalNorm, dOut: dFinal.ptr, x: last,
                        rstd: finalRstd.ptr, weight: w + layout.finalNorm, rows: r, dim: d)
        if m.hiddenZLossCoef > 0 {
            _ = hiddenZLossForwardBackward(dz: dLast.ptr, z: last, rows: r, dim: d, coef: Float(m.hiddenZLossCoef))
        }
    }
}

/// Targets that count toward the loss (non-negative).
func countTargets(_ t: UnsafePointer<Int32>, _ n: Int) -> Int {
    var c = 0
    for i in 0..<n where t[i] >= 0 { c += 1 }
    return c
}
