import Foundation
import LabConfig

/// The shape of a factor that falls from 1 to a final ratio over a run; shared by the learning
/// rate and the controller's gain schedule.
public enum DecayKind: String, Sendable, CaseIterable {
    /// Always 1.
    case constant
    /// Straight line from 1 to the final ratio.
    case linear
    /// Half a cosine from 1 to the final ratio: flat at both ends, steepest in the middle.
    case cosine

    /// Parses a config value; the error names `key`, the value and the allowed spellings.
    public init(parsing value: String, key: String) throws {
        guard let kind = DecayKind(rawValue: value) else {
            throw ScheduleError(message: "\(key) = \"\(value)\" is not a schedule; allowed: "
                                + DecayKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }
}

/// A schedule setting that names no known schedule.
public struct ScheduleError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Factor at `step` of `totalSteps` (0-based): 1 at step 0, `finalRatio` at the last step
/// (`totalSteps - 1`) and after it. Negative steps give 1.
public func decay(kind: DecayKind, step: Int, totalSteps: Int, finalRatio: Double) -> Double {
    let last = max(1, totalSteps - 1)
    let progress = min(1, max(0, Double(step) / Double(last)))
    switch kind {
    case .constant:
        return 1
    case .linear:
        return 1 + (finalRatio - 1) * progress
    case .cosine:
        return finalRatio + (1 - finalRatio) * 0.5 * (1 + cos(Double.pi * progress))
    }
}

/// `decay(kind:step:totalSteps:finalRatio:)` with the kind spelled as in a config file
/// ("constant", "linear", "cosine"); throws on any other spelling.
public func decay(kind: String, step: Int, totalSteps: Int, finalRatio: Double) throws -> Double {
    decay(kind: try DecayKind(parsing: kind, key: "schedule"), step: step, totalSteps: totalSteps, finalRatio: finalRatio)
}

/// The learning rate per step (0-based) from `[train]`: linear warm-up over `warmupSteps`
/// (step s < warmup gives lr * (s + 1) / warmup, so the first step is not wasted at 0 and the
/// last warm-up step reaches lr), then either constant lr or a cosine decay from lr at step
/// `warmupSteps` to lr * `minLrRatio` at the last step (`steps - 1`), held after it.
public struct LearningRateSchedule: Sendable {
    public let peak: Double
    public let warmupSteps: Int
    public let totalSteps: Int
    public let finalRatio: Double
    public let kind: DecayKind

    public init(_ train: TrainConfig) throws {
        switch train.schedule {
        case .cosine: kind = .cosine
        case .constant: kind = .constant
        }
        peak = train.learningRate
        warmupSteps = max(0, train.warmupSteps)
        totalSteps = train.steps
        finalRatio = train.minLrRatio
    }

    public func rate(atStep step: Int) -> Float {
        if step < warmupSteps {
            return Float(peak * Double(max(0, step) + 1) / Double(warmupSteps))
        }
        let factor = decay(kind: kind, step: step - warmupSteps, totalSteps: totalSteps - warmupSteps,
                           finalRatio: finalRatio)
        return Float(peak * factor)
    }
}
