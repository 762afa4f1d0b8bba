import ArgumentParser
import Foundation
import LabInterchange
import LabKernels

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Run the forward pass on a token file and write the logits (and routing) as .npy.",
        discussion: """
        CHECKPOINT is a lab step directory, its model.safetensors, or a transformers directory (config.json + safetensors). The token file holds one sequence per line, ids separated by spaces, all lines of one length. Writes float32 logits [batch, time, vocab] to --out, the loss (mean next-token cross-entropy, as transformers computes it with labels = input ids) to the same name with .json, and with --routing-out the chosen experts as int32 [layers, batch*time, K], ids ascending per token, so a routing difference can be told from a numerical one. In numpy: np.load("logits.npy").

        Example:
          longcat-lab logits CHECKPOINT --tokens batch.txt --routing-out routing.npy
        """)

    @Argument(help: "Checkpoint: step directory, model.safetensors, or transformers directory.")
    var checkpoint: String

    @Option(help: "Token file: one sequence per line, ids separated by spaces.")
    var tokens: String

    @Option(help: "Logits file (.npy).")
    var out = "logits.npy"

    @Option(name: .customLong("routing-out"), help: "Also write the chosen experts (.npy, int32 [layers, batch*time, K]).")
    var routingOut: String?

    @Option(help: "Lab config of the checkpoint (default: config.toml beside it or in its run directory).")
    var config: String?

    @Option(help: "Worker threads (0 = all cores).")
    var threads = 0

    func run() throws {
        LabThreads.set(threads)
        let source = try ModelSource.open(checkpoint, configPath: config)
        let batch = try TokenBatch.read(path: tokens, vocabSize: source.config.model.vocabSize)
        let (model, notes) = try source.makeModel(batch: batch.batch, seqLen: batch.seqLen)
        for note in notes { print("note: \(note)") }
        let e = model.evaluate(tokens: batch.tokens, batch: batch.batch)
        try LogitsOutput.writeLogits(e, batch: batch.batch, seqLen: batch.seqLen, to: out)
        let lossPath = (out.hasSuffix(".npy") ? String(out.dropLast(4)) : out) + ".json"
        try LogitsOutput.writeLoss(e, to: lossPath)
        if let routingOut { try LogitsOutput.writeRouting(e, batch: batch.batch, seqLen: batch.seqLen, to: routingOut) }
        print(String(format: "loss %.8f over %d predicted tokens", e.losses.lm, e.predictedTokens) + " (\(source.description))")
        print("logits [\(batch.batch), \(batch.seqLen), \(source.config.model.vocabSize)] -> \(out); loss -> \(lossPath)"
              + (routingOut.map { "; routing [\(model.config.model.numLayers), \(batch.batch * batch.seqLen), \(model.config.model.moeTopk)] -> \($0)" } ?? ""))
    }
}
