import Foundation
import LabKernels
import Testing
import TestSupport

@Suite("RoPE")
struct RoPETests {
    // q-like layout: rows of H heads of (dn nope | dr rope), rope part at offset dn.
    static let (batch, seqLen, heads, nope, rope) = (2, 5, 3, 4, 6)
    static var rowStride: Int { heads * (nope + rope) }

    private func rotate(_ x: FloatBuffer, table: RopeTable, backward: Bool = false) {
        let (rows, stride) = (RoPETests.batch * RoPETests.seqLen, RoPETests.rowStride)
        if backward {
            ropeBackward(dx: x.ptr, rows: rows, seqLen: RoPETests.seqLen, heads: RoPETests.heads,
                         rowStride: stride, headStride: RoPETests.nope + RoPETests.rope,
                         offset: RoPETests.nope, table: table)
        } else {
            ropeForward(x: x.ptr, rows: rows, seqLen: RoPETests.seqLen, heads: RoPETests.heads,
                        rowStride: stride, headStride: RoPETests.nope + RoPETests.rope,
                        offset: RoPETests.nope, table: table)
        }
    }

    /// Guards against a wrong pairing or frequency: the interleaved pair (x_2i, x_2i+1) at
    /// position p turns by p * theta^(-2i/dim), the nope part stays untouched.
    @Test("forward rotates interleaved pairs by position times frequency")
    func forwardFormula() {
        let table = RopeTable(dim: RoPETests.rope, maxPositions: 8, theta: 100)
        let x = randomBuffer(RoPETests.batch * RoPETests.seqLen * RoPETests.rowStride, seed: 1)
        let original = clone(x)
        rotate(x, table: table)
        let headWidth = RoPETests.nope + RoPETests.rope
        for row in 0..<(RoPETests.batch * RoPETests.seqLen) {
            let position = Double(row % RoPETests.seqLen)
            for h in 0..<RoPETests.heads {
                let base = row * RoPETests.rowStride + h * headWidth
                for i in 0..<RoPETests.nope { #expect(x[base + i] == original[base + i]) }
                for pair in 0..<(RoPETests.rope / 2) {
                    let angle = position * pow(100.0, -2 * Double(pair) / Double(RoPETests.rope))
                    let a = Double(original[base + RoPETests.nope + 2 * pair])
                    let b = Double(original[base + RoPETests.nope + 2 * pair + 1])
                    let c = cos(angle), s = sin(angle)
                    #expect(abs(Double(x[base + RoPETests.nope + 2 * pair]) - (a * c - b * s)) < 1e-5)
                    #expect(abs(Double(x[base + RoPETests.nope + 2 * pair + 1]) - (a * s + b * c)) < 1e-5)
                }
            }
        }
    }

    /// Guards against a non-orthogonal rotation (wrong sign or mixed pairs): norms per head
    /// are preserved.
    @Test("forward preserves each head's norm")
    func preservesNorm() {
        let table = RopeTable(dim: RoPETests.rope, maxPositions: RoPETests.seqLen, theta: 10_000)
        let x = randomBuffer(RoPETests.batch * RoPETests.seqLen * RoPETests.rowStride, seed: 2)
        let original = clone(x)
        rotate(x, table: table)
        for row in 0..<(RoPETests.batch * RoPETests.seqLen) {
            for h in 0..<RoPETests.heads {
                let base = row * RoPETests.rowStride + h * (RoPETests.nope + RoPETests.rope) + RoPETests.nope
                var before = 0.0, after = 0.0
                for i in 0..<RoPETests.rope {
                    before += Double(original[base + i] * original[base + i])
                    after += Double(x[base + i] * x[base + i])
                }
                #expect(abs(before - after) < 1e-5 * max(1, before))
            }
        }
    }

    /// Guards against a backward pass that is not the transpose: rotating back restores the input.
    @Test("backward after forward is the identity")
    func backwardInvertsForward() {
        let table = RopeTable(dim: RoPETests.rope, maxPositions: 16, theta: 10_000)
        let x = randomBuffer(RoPETests.batch * RoPETests.seqLen * RoPETests.rowStride, seed: 3)
        let original = clone(x)
        rotate(x, table: table)
        rotate(x, table: table, backward: true)
        #expect(maxAbsDifference(x, original) < 1e-5)
    }

    /// Guards against a backward pass that rotates the wrong way: finite differences of a
    /// projection of the rotated shared rope key (one head, no offset).
    @Test("backward matches finite differences")
    func gradCheckRoPE() {
        let (rows, T, dr) = (6, 3, 4)
        let table = RopeTable(dim: dr, maxPositions: T, theta: 10)
        let x = randomBuffer(rows * dr, seed: 4), r = randomBuffer(rows * dr, seed: 5)
        let loss = {
            let y = clone(x)
            ropeForward(x: y.ptr, rows: rows, seqLen: T, heads: 1, rowStride: dr, headStride: 0,
                        offset: 0, table: table)
            return projectionLoss(y, r)
        }
        let dx = clone(r)
        ropeBackward(dx: dx.ptr, rows: rows, seqLen: T, heads: 1, rowStride: dr, headStride: 0,
                     offset: 0, table: table)
        let report = gradCheck(x, analytic: dx, eps: 1e-2, floor: 1e-2, loss: loss)
        #expect(report.maxRelativeError < 1e-3, "\(report)")
    }
}
