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

    /// Forward pass; with `train`, also the backward pass into `grads` (zeroed first).
    /// tokens, targets: [batch*T]; a negative target is ignored. `mtpTargets` (token t+2) is
    /// needed only when the MTP head is on.
    public func pass(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>? = nil,
                     batch: Int, train: Bool) -> Losses {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's activation memory (\(maxBatch))")
        let m = config.model, d = m.hiddenSize, v = m.vocabSize, r = batch * seqLen
        let w = UnsafePointer(params.ptr)
        var losses = Losses()
        let forwardStart = DispatchTime.now().uptimeNanoseconds
        Profiler.time(.embedding) {
            embeddingForward(out: hidden[0].ptr, tokens: tokens, table: w + layout.embedding, rows: r, dim: d)
        }
        for l in 0..<m.numLayers {
            losses.balance += layerForward(out: hidden[l + 1].ptr, x: hidden[l].ptr, context: context(layer: l, batch: batch),
                                           saved: saved[l], scratch: layerScratch, mlaScratch: mlaScratch,
                                           ffnScratch: ffnScratch, moeScratch: moeScratch)
        }
        let last = hidden[m.numLayers].ptr
        Profiler.time(.lmHeadAndLoss) {
            rmsNormForward(out: finalNormed.ptr, rstd: finalRstd.ptr, x: last, weight: w + layout.finalNorm,
                           rows: r, dim: d, eps: Float(m.rmsNormEps))
            linearForward(y: logits.ptr, x: finalNormed.ptr, w: w + layout.lmHead, rows: r, inFeatures: d, outFeatures: v)
        }
        let backwardStart = Profiler.addPhase(backward: false, since: forwardStart)
        if train { grads.zero() }
        let dLast = dHidden[0]
        if train { dLast.zero() }
        Profiler.time(.lmHeadAndLoss, backward: true) {
        if !train {
            let ce = crossEntropyLoss(logits: logits.ptr, targets: targets, rows: r, vocab: v)
            losses.lm = ce.lossSum / Double(max(ce.counted, 1))
        } else {
            let counted = countTargets(targets, r)
            let ce = crossEntropyForwardBackward(dLogits: logits.ptr, logits: logits.ptr, targets: targets, rows: r,
                                                 vocab: v, gradScale: 1 / Float(max(counted, 1)))
            losses.lm = ce.lossSum / Double(max(ce.counted, 1))
            // LM head and final norm backward; dFinal reuses dHidden[1].
            let dFinal = dHidden[1]
            dFinal.zero()
            linearBackward(dx: dFinal.ptr, dw: grads.ptr + layout.lmHead, dy: logits.ptr, x: finalNormed.ptr,
                           w: w + layout.lmHead, rows: r, inFeatures: d, outFeatures: v)
            rmsNormBackward(dx: dLast.ptr, dWeight: grads.ptr + layout.finalNorm, dOut: dFinal.ptr, x: last,
                            rstd: finalRstd.ptr, weight: w + layout.finalNorm, rows: r, dim: d)
        }
        if m.hiddenZLossCoef > 0 {
            if train {
                losses.z = hiddenZLossForwardBackward(dz: dLast.ptr, z: last, rows: r, dim: d, coef: Float(m.hiddenZLossCoef))
            } else {
                let scratch = FloatBuffer(count: r * d)   // the gradient is not wanted; kept alive through the call
                losses.z = withExtendedLifetime(scratch) {
                    hiddenZLossForwardBackward(dz: scratch.ptr, z: last, rows: r, dim: d, coef: Float(m.hiddenZLossCoef))
                }
            }
        }
        }
        if let mtp {
            precondition(mtpTargets != nil, "the MTP head needs mtpTargets")
            losses.mtp = Profiler.time(.mtp, backward: true) {
                mtp.pass(model: self, last: last, dLast: train ? dLast.ptr : nil, tokens: tokens,
                         targets: targets, mtpTargets: mtpTargets!, batch: batch)
            }
        }
        losses.total = losses.lm + losses.balance + losses.z + m.mtpLossCoef * losses.mtp
        guard train else { return losses }
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
        Profiler.time(.embedding, backward: true) {
            embeddingBackward(dTable: grads.ptr + layout.embedding, dOut: dHidden[cur].ptr, tokens: tokens, rows: r, dim: d)
        }
        _ = Profiler.addPhase(backward: true, since: backwardStart)
        return losses
    }
}

/// Targets that count toward the loss (non-negative).
func countTargets(_ t: UnsafePointer<Int32>, _ n: Int) -> Int {
    var c = 0
    for i in 0..<n where t[i] >= 0 { c += 1 }
    return c
}
