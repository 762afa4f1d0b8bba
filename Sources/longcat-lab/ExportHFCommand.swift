import ArgumentParser
import Foundation
import LabInterchange
import LabModel
import LabTraining

struct ExportHFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-hf",
        abstract: "Write a run's checkpoint as a transformers LongcatFlashForCausalLM directory.",
        discussion: """
        DIR receives config.json (model_type "longcat_flash") and a float32 model.safetensors under the reference's tensor names, so that in Python
          LongcatFlashForCausalLM.from_pretrained(DIR)
        loads it with no code change and gives the lab's logits. Variance compensation is folded into routed_scaling_factor; the MTP head is left out (it does not change the logits). Settings the reference cannot express (layout = "sequential", zero experts other than "identity", an MLA scale turned off) are refused.

        Examples:
          longcat-lab export-hf quickstart-20260101-120000 exports/qs
          longcat-lab export-hf results/runs/qs-1 --step 200 exports/qs-200
        """)

    @Argument(help: ArgumentHelp("Run name (in --db, or under --results/runs) or run directory.", valueName: "run"))
    var runName: String

    @Argument(help: "Directory to write config.json and model.safetensors into.")
    var directory: String

    @Option(help: "Checkpoint step (default: the newest).")
    var step: Int?

    @OptionGroup var records: RecordsOptions

    @OptionGroup var output: ResultsOptions

    func run() throws {
        let source = try CheckpointSource.run(runName, step: step, database: records.db, results: output.results)
        let model = LongCatModel(config: source.config, batch: 1, seqLen: 1)
        try Checkpoint.readModel(model, from: source.modelPath)
        var metadata = ["source": "longcat-lab", "run": runName]
        if let s = source.step { metadata["step"] = String(s) }
        let notes = try HFExport.write(model, to: directory, metadata: metadata)
        for note in notes { print("note: \(note)") }
        print("exported \(source.modelPath) to \(directory)/ (config.json, model.safetensors)")
    }
}
