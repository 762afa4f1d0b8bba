/// The figure kinds of `longcat-lab plot`, the options they take, and what rendering returns.

/// One kind of figure; its raw value is the command-line name.
public enum FigureKind: String, CaseIterable, Sendable {
    /// Histogram of activated parameters per token over a step window, and its heat map over steps.
    case activatedParams = "activated-params"
    /// Mean and spread over tokens of FFN experts per token, per layer, over steps, with K_e.
    case ffnExperts = "ffn-experts"
    /// The controller's bias per expert over steps, and its P, I and D terms.
    case bias
    /// Share of routing slots that went to zero experts, per layer, over steps.
    case zeroShare = "zero-share"
    /// Load share per layer and expert at a step, as a strip over steps, and MaxVio over steps.
    case expertLoad = "expert-load"
    /// Training and evaluation loss (with an exponential moving average), and tokens/s.
    case loss
    /// Variance statistics at the first recorded step across runs, and over training.
    case variance
    /// FFN experts per token by difficulty label or token class.
    case allocation
    /// Expert x label load and expert co-activation heat maps per layer, from token samples.
    case specialisation
    /// Mean marginal benefit of one FFN expert more or less by allocated count and layer, from probe rows.
    case marginalBenefit = "marginal-benefit"
    /// Routing churn per layer between consecutive evaluations, from the routing traces.
    case churn
    /// The bias controller's loop gain (ki x measured sensitivity) per layer over steps.
    case loopGain = "loop-gain"

    /// Parses a command-line name; the error lists every kind.
    public init(parsing name: String) throws {
        guard let kind = FigureKind(rawValue: name) else {
            throw PlotError("unknown figure kind '\(name)'; kinds: " + FigureKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }
}

/// Image formats gnuplot writes (cairo terminals).
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    /// Parses a command-line name; the error lists every format.
    public init(parsing name: String) throws {
        guard let f = ImageFormat(rawValue: name.lowercased()) else {
            throw PlotError("unknown image format '\(name)'; formats: png, svg, pdf")
        }
        self = f
    }
}

/// What a figure is drawn from and how.
public struct PlotOptions: Sendable {
    /// Folder the images, scripts and data files go to (created when missing).
    public var outputDirectory: String
    public var format: ImageFormat = .png
    /// Only this MoE layer, where a figure shows layers; nil: every layer (or layer 0 for
    /// figures that show one layer at a time: bias, expert-load strip).
    public var layer: Int? = nil
    /// The step of snapshot figures (expert-load heat map, allocation); nil: the last recorded.
    public var step: Int? = nil
    /// Steps the activated-parameter histogram sums over; nil: the final window (`FinalWindow.standard`).
    public var window: ClosedRange<Int>? = nil
    /// Weight w of the exponential moving average s_t = w s_{t-1} + (1 - w) x_t (s_0 = x_0)
    /// drawn over noisy per-step curves (loss, tokens/s, MaxVio, compared metrics); 0 draws raw
    /// values only. Must lie in [0, 1). The average lags the data by about w / (1 - w) steps.
    public var smoothing: Double = 0.8
    /// Image size in pixels (PDF: hundredths of an inch).
    public var width = 800
    public var height = 500

    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// Throws a `PlotError` naming the bad option.
    func validate() throws {
        guard smoothing >= 0 && smoothing < 1 else {
            throw PlotError("--smooth \(smoothing) is out of range; the moving-average weight must lie in [0, 1)")
        }
        if let layer, layer < 0 { throw PlotError("--layer \(layer) is negative; layers count from 0") }
        if let window, window.lowerBound < 0 { throw PlotError("--steps \(window) starts below step 0") }
        guard width >= 200 && height >= 150 else { throw PlotError("image size \(width)x\(height) is too small (at least 200x150)") }
    }
}

/// One drawn figure: the image and, beside it, the gnuplot script and data that made it.
public struct RenderedFigure: Sendable, Equatable {
    /// File stem shared by image, script and data files (`ffn-experts`, `bias-layer0`).
    public var name: String
    public var title: String
    public var image: String
    public var script: String
    public var dataFiles: [String]
}

/// A figure before rendering: gnuplot commands (after the common header) and data files.
struct FigureSpec {
    var name: String
    var title: String
    /// Commands after the terminal, palette and title lines; data files are named relative to
    /// the output folder.
    var body: String
    var data: [DataFile]
    /// Height in pixels when not the default (stacked panels).
    var height: Int? = nil
}
