import Foundation
import LabAnalysis
import LabRecords

/// `export notebook`: a Jupyter notebook that opens the records database with sqlite3, reads
/// the runs' rows with pandas and redraws the main figures with matplotlib, after markdown
/// cells holding each run's config and final metrics. Every code cell copes with empty tables,
/// so the notebook runs top to bottom in a fresh kernel for any run.
public struct NotebookExport: Sendable {
    public let comparison: Comparison

    public init(store: RecordStore, runs: [String]) throws {
        comparison = try Comparison(store: store, runs: runs)
    }

    /// The file name: `<run>.ipynb` or `<a>-vs-<b>.ipynb`.
    public var fileName: String { comparison.runSet.folderName + ".ipynb" }

    /// Writes the notebook into `directory` (created when missing), checks it against the
    /// nbformat rules, and returns its path.
    public func write(into directory: String) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PlotError("cannot create output folder '\(directory)': \(error.localizedDescription)")
        }
        let data = try notebook().data()
        let problems = NotebookValidator.problems(in: data)
        guard problems.isEmpty else { throw PlotError("the notebook breaks nbformat 4: " + problems.joined(separator: "; ")) }
        let path = directory + "/" + fileName
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw PlotError("cannot write '\(path)': \(error.localizedDescription)")
        }
        return path
    }

    /// The cells: a title, each run's config and summary, then code that redraws the figures.
    public func notebook() throws -> Notebook {
        let set = comparison.runSet
        let db = URL(fileURLWithPath: set.databasePath).standardizedFileURL.path
        let names = set.runs.map(\.name)
        var cells: [Notebook.Cell] = [.markdown("""
            # LongCat Lab: \(names.joined(separator: ", "))

            Records of \(names.count == 1 ? "one run" : "\(names.count) runs") from `\(db)`, exported by \
            `longcat-lab export notebook`. The code cells read the SQLite tables with pandas and redraw \
            the main figures of `longcat-lab plot` with matplotlib; set the environment variable \
            `LONGCAT_LAB_DB` to read another copy of the database.

            Final metrics (loss, FFN experts, MaxVio: mean over the final window, the \
            \(FinalWindow.standard.description); eval loss: the last evaluation; tokens/s: median):

            ```
            \(comparison.table())
            ```
            """)]
        for run in set.runs {
            let toml = try comparison.store.run(id: run.id)?.configTOML ?? "(no config recorded)"
            let differing = set.differingKeys.map { "`\($0) = \(run.config[$0] ?? "(unset)")`" }
            cells.append(.markdown("""
                ## Run `\(run.name)`

                \(differing.isEmpty ? "" : "Differs from the other runs in " + differing.joined(separator: ", ") + ".\n\n")\
                <details><summary>Resolved config</summary>

                ```toml
                \(toml.trimmingCharacters(in: .whitespacesAndNewlines))
                ```
                </details>
                """))
        }
        cells += Self.codeCells(database: db, runs: names)
        return Notebook(cells: cells)
    }

    static func pythonString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func codeCells(database: String, runs: [String]) -> [Notebook.Cell] {
        let runList = "[" + runs.map(pythonString).joined(separator: ", ") + "]"
        return [
            .code(#"""
                import math
                import os
                import sqlite3

                import matplotlib.pyplot as plt
                import numpy as np
                import pandas as pd

                DB = os.environ.get("LONGCAT_LAB_DB", \#(pythonString(database)))
                RUNS = \#(runList)
                # Moving-average weight w, as in `longcat-lab plot`: s_t = w*s_(t-1) + (1-w)*x_t, s_0 = x_0.
                SMOOTH = 0.8

                con = sqlite3.connect(DB)
                marks = ",".join("?" * len(RUNS))
                runs = pd.read_sql_query(f"SELECT * FROM runs WHERE name IN ({marks})", con, params=RUNS)
                missing = sorted(set(RUNS) - set(runs["name"]))
                assert not missing, f"runs not in {DB}: {missing}"
                runs = runs.set_index("name").loc[RUNS].reset_index()
                run_ids = [int(i) for i in runs["run_id"]]


                def table(name):
                    """Every row of a per-step table for RUNS, with a `name` column."""
                    df = pd.read_sql_query(f"SELECT * FROM {name} WHERE run_id IN ({marks})", con, params=run_ids)
                    return df.merge(runs[["run_id", "name"]], on="run_id")


                def config(text):
                    """The resolved config (flat TOML) as {'table.key': value}."""
                    out, section = {}, ""
                    for line in (text or "").splitlines():
                        line = line.strip()
                        if line.startswith("[") and line.endswith("]"):
                            section = line[1:-1]
                        elif "=" in line and not line.startswith("#"):
                            key, value = (s.strip() for s in line.split("=", 1))
                            value = value.strip('"')
                            try:
                                value = float(value)
                            except ValueError:
                                pass
                            out[f"{section}.{key}"] = value
                    return out


                configs = {r["name"]: config(r["config_toml"]) for _, r in runs.iterrows()}


                def target_ffn_experts(name):
                    """K_e: controller.target_ffn_experts, where 0 means model.moe_topk."""
                    c = configs[name]
                    t = float(c.get("controller.target_ffn_experts", 0) or 0)
                    return t if t > 0 else float(c.get("model.moe_topk", 0) or 0)


                runs[["run_id", "name", "status", "created_at", "finished_at", "seed", "threads"]]
                """#),
            .code(#"""
                # Loss (raw faint, moving average bold, evaluation dashed) and tokens/s.
                steps = table("steps")
                if steps.empty:
                    print("no steps recorded")
                else:
                    fig, (ax_loss, ax_tps) = plt.subplots(1, 2, figsize=(13, 4.5))
                    for name, d in steps.groupby("name", sort=False):
                        (raw,) = ax_loss.plot(d["step"], d["loss"], lw=0.6, alpha=0.3)
                        colour = raw.get_color()
                        ax_loss.plot(d["step"], d["loss"].ewm(alpha=1 - SMOOTH, adjust=False).mean(), color=colour,
                                     label=f"{name} train")
                        ev = d.dropna(subset=["eval_loss"])
                        if len(ev):
                            ax_loss.plot(ev["step"], ev["eval_loss"], "o--", color=colour, label=f"{name} evaluation")
                        ax_tps.plot(d["step"], d["tokens_per_s"].ewm(alpha=1 - SMOOTH, adjust=False).mean(),
                                    color=colour, label=name)
                    ax_loss.set(xlabel="training step", ylabel="loss (nats per token)", title="training and evaluation loss")
                    ax_tps.set(xlabel="training step", ylabel="tokens per second", title="throughput")
                    ax_loss.legend()
                    ax_tps.legend()
                    plt.show()
                """#),
            .code(#"""
                # Routing per layer: FFN experts per token (mean +- std over tokens) against K_e,
                # the zero-expert share of slots, and MaxVio.
                layers = table("layer_steps")
                if layers.empty:
                    print("no layer_steps recorded")
                else:
                    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
                    for (name, layer), d in layers.groupby(["name", "layer"], sort=False):
                        label = f"{name}, layer {layer}" if len(RUNS) > 1 else f"layer {layer}"
                        (line,) = axes[0].plot(d["step"], d["ffn_experts_mean"], label=label)
                        axes[0].fill_between(d["step"], d["ffn_experts_mean"] - d["ffn_experts_std"],
                                             d["ffn_experts_mean"] + d["ffn_experts_std"], color=line.get_color(), alpha=0.15)
                        axes[1].plot(d["step"], d["zero_expert_share"], label=label)
                        axes[2].plot(d["step"], d["max_vio"].ewm(alpha=1 - SMOOTH, adjust=False).mean(), label=label)
                    for t in sorted({target_ffn_experts(n) for n in RUNS}):
                        axes[0].axhline(t, color="0.3", ls="--", label=f"target K_e = {t:g}")
                    axes[0].set(xlabel="training step", ylabel="FFN experts per token and layer", title="FFN experts per token")
                    axes[1].set(xlabel="training step", ylabel="zero-expert share of slots", title="zero-expert share", ylim=(0, 1))
                    axes[2].set(xlabel="training step", ylabel="MaxVio (moving average)", title="load imbalance MaxVio")
                    for ax in axes:
                        ax.legend(fontsize=8)
                    plt.show()
                """#),
            .code(#"""
                # Activated parameters per token: histogram over the final window of each run (the
                # \#(FinalWindow.standard.description), as every report of the lab), and the
                # share of tokens per activated-parameter count over training (first run).
                act = table("activated_params")
                if act.empty:
                    print("no activated_params recorded")
                else:
                    fig, (ax_hist, ax_heat) = plt.subplots(1, 2, figsize=(14, 4.5))
                    width = 0.8 / len(RUNS)
                    for i, (name, d) in enumerate(act.groupby("name", sort=False)):
                        steps = sorted(d["step"].unique())
                        width = min(len(steps), max(\#(FinalWindow.standard.minimumSteps), math.ceil(len(steps) * \#(FinalWindow.standard.fraction))))
                        window = d[d["step"] >= steps[-width]]
                        share = window.groupby("ffn_experts")["tokens"].sum()
                        share = 100 * share / share.sum()
                        ax_hist.bar(share.index + (i - (len(RUNS) - 1) / 2) * width, share.values, width=width, label=name)
                    ax_hist.set(xlabel="FFN experts per token (all layers)", ylabel="share of tokens (%)",
                                title="activated FFN experts per token, final window")
                    ax_hist.legend()
                    first_run = act[act["name"] == RUNS[0]]
                    grid = first_run.pivot_table(index="ffn_experts", columns="step", values="tokens", aggfunc="sum", fill_value=0)
                    grid = 100 * grid / grid.sum(axis=0)
                    params = first_run.groupby("ffn_experts")["activated_params"].first()
                    mesh = ax_heat.pcolormesh(grid.columns, grid.index, grid.values, shading="nearest", cmap="viridis")
                    fig.colorbar(mesh, ax=ax_heat, label="share of tokens (%)")
                    ax_heat.set_yticks(params.index, [f"{p / 1e6:.3g}M ({c})" for c, p in params.items()])
                    ax_heat.set(xlabel="training step", ylabel="activated parameters (FFN experts)",
                                title=f"{RUNS[0]}: activated parameters over training")
                    plt.show()
                """#),
            .code(#"""
                # Expert load share (layer x expert) at each run's last step, and the routing bias per
                # expert of layer 0 over training (routed experts blue, zero experts orange).
                experts = table("expert_steps")
                if experts.empty:
                    print("no expert_steps recorded")
                else:
                    fig, axes = plt.subplots(len(RUNS), 2, figsize=(14, 3.8 * len(RUNS)), squeeze=False)
                    for row, name in enumerate(RUNS):
                        d = experts[experts["name"] == name]
                        if d.empty:
                            axes[row, 0].set_title(f"{name}: no expert rows")
                            continue
                        last = d[d["step"] == d["step"].max()]
                        load = last.pivot(index="layer", columns="expert", values="load_share")
                        image = axes[row, 0].imshow(100 * load.values, aspect="auto", origin="lower", cmap="viridis")
                        fig.colorbar(image, ax=axes[row, 0], label="share of slots (%)")
                        axes[row, 0].set_yticks(range(load.shape[0]))
                        axes[row, 0].set(xlabel="expert (routed, then zero)", ylabel="MoE layer",
                                         title=f"{name}: load share at step {int(last['step'].iloc[0])}")
                        layer0 = d[d["layer"] == 0]
                        for expert, e in layer0.groupby("expert"):
                            zero = bool(e["is_zero"].iloc[0])
                            axes[row, 1].plot(e["step"], e["bias"], lw=0.7, alpha=0.6, color="tab:orange" if zero else "tab:blue")
                        axes[row, 1].set(xlabel="training step", ylabel="routing bias", title=f"{name}: bias per expert, layer 0")
                    plt.tight_layout()
                    plt.show()
                """#),
            .code(#"""
                # FFN experts by difficulty label (synthetic corpora) or byte class, at the last sampled step.
                samples = table("token_samples")


                def byte_class(token):
                    if 0x61 <= token <= 0x7A or 0x41 <= token <= 0x5A or token >= 0x80:
                        return "letter"
                    if 0x30 <= token <= 0x39:
                        return "digit"
                    if token == 0x20 or 0x09 <= token <= 0x0D:
                        return "whitespace"
                    if 0x21 <= token <= 0x7E:
                        return "punctuation"
                    return "other"


                if samples.empty:
                    print("no token_samples recorded")
                else:
                    last = samples[samples["step"] == samples.groupby("name")["step"].transform("max")].copy()
                    last["group"] = last["label"].where(last["label"].notna() & (last["label"] != ""),
                                                        last["token"].map(byte_class))
                    summary = last.groupby(["group", "name", "layer"])["ffn_experts"].agg(["mean", "std", "count"])
                    display(summary)
                    summary["mean"].unstack(["name", "layer"]).plot.bar(figsize=(10, 4.5), rot=20)
                    for t in sorted({target_ffn_experts(n) for n in RUNS}):
                        plt.axhline(t, color="0.3", ls="--")
                    plt.ylabel("FFN experts per token and layer")
                    plt.title("FFN experts by token group")
                    plt.show()
                """#),
            .code(#"""
                # Expert specialisation at each run's last sampled step, per layer: the mutual information
                # I(E; C) between the chosen FFN expert E and the label C (token class, synthetic label or
                # mix domain) over (token, chosen FFN expert) pairs, as in `longcat-lab specialisation`;
                # the expert x label load (% of each label's FFN-expert slots, rows sum to 100); and the
                # co-activation of experts (% of tokens that chose both; diagonal blank).
                samples = table("token_samples")
                labelled = samples[samples["label"].notna()] if not samples.empty else samples
                if labelled.empty:
                    print("no labelled token_samples recorded")
                else:
                    for name in RUNS:
                        d = labelled[labelled["name"] == name]
                        if d.empty:
                            print(f"{name}: no labelled token samples")
                            continue
                        d = d[d["step"] == d["step"].max()].copy()
                        d["chosen"] = d["experts"].fillna("").astype(str).str.split()
                        pairs = d.explode("chosen").dropna(subset=["chosen"])
                        pairs = pairs[pairs["chosen"] != ""].astype({"chosen": int})
                        n_experts = int(configs[name].get("model.n_routed_experts", pairs["chosen"].max() + 1))
                        layers = sorted(d["layer"].unique())
                        fig, axes = plt.subplots(2, len(layers), figsize=(7 * len(layers), 10), squeeze=False)
                        for i, layer in enumerate(layers):
                            at = pairs[pairs["layer"] == layer]
                            n = pd.crosstab(at["label"], at["chosen"]).reindex(columns=range(n_experts), fill_value=0)
                            p = n.values / n.values.sum()
                            outer = np.outer(p.sum(axis=1), p.sum(axis=0))
                            nz = p > 0
                            mi = float((p[nz] * np.log(p[nz] / outer[nz])).sum())
                            share = mi / math.log(len(n.index)) if len(n.index) > 1 else float("nan")
                            load = 100 * n.div(n.sum(axis=1), axis=0)
                            image = axes[0, i].imshow(load.values, aspect="auto", cmap="viridis", vmin=0)
                            fig.colorbar(image, ax=axes[0, i], label="% of the label's FFN-expert slots")
                            axes[0, i].set_yticks(range(len(load.index)), load.index)
                            axes[0, i].set(xlabel="routed expert",
                                           title=f"{name}, layer {layer}: I = {mi:.3g} nats ({100 * share:.2g}% of log {len(n.index)})")
                            co = np.zeros((n_experts, n_experts))
                            tokens = d[d["layer"] == layer]["chosen"]
                            for chosen in tokens:
                                ids = sorted({int(x) for x in chosen})
                                co[np.ix_(ids, ids)] += 1
                            co = 100 * co / max(len(tokens), 1)
                            np.fill_diagonal(co, np.nan)
                            image = axes[1, i].imshow(co, origin="lower", cmap="viridis", vmin=0)
                            fig.colorbar(image, ax=axes[1, i], label="% of tokens that chose both")
                            axes[1, i].set(xlabel="routed expert i", ylabel="routed expert j",
                                           title=f"{name}, layer {layer}: co-activation ({len(tokens)} tokens)")
                        plt.tight_layout()
                        plt.show()
                """#),
            .code(#"""
                # Marginal benefit from `longcat-lab probe RUN` (table probe_tokens) at each run's last probed
                # checkpoint: mean loss - loss(+1) (one FFN expert more) and loss(-1) - loss (its last FFN
                # expert) by the FFN experts the router gave the token, per layer.
                probe = table("probe_tokens")
                if probe.empty:
                    print("no probe_tokens recorded (run `longcat-lab probe RUN` to measure marginal benefits)")
                else:
                    last = probe[probe["step"] == probe.groupby("name")["step"].transform("max")].copy()
                    last["benefit_plus"] = last["loss"] - last["loss_plus"]
                    last["benefit_minus"] = last["loss_minus"] - last["loss"]
                    summary = last.groupby(["name", "layer", "ffn_experts"])[["benefit_plus", "benefit_minus"]].mean()
                    display(summary)
                    fig, ax = plt.subplots(figsize=(9, 4.5))
                    for (name, layer), g in summary.reset_index().groupby(["name", "layer"], sort=False):
                        label = f"{name}, layer {layer}" if len(RUNS) > 1 else f"layer {layer}"
                        (line,) = ax.plot(g["ffn_experts"], g["benefit_plus"], "o-", label=f"{label}: +1, loss - loss(+1)")
                        ax.plot(g["ffn_experts"], g["benefit_minus"], "s--", color=line.get_color(),
                                label=f"{label}: -1, loss(-1) - loss")
                    ax.axhline(0, color="0.3", lw=0.8)
                    ax.set(xlabel="FFN experts the router gave the token in the layer", ylabel="mean marginal benefit (nats)",
                           title="marginal benefit of one FFN expert more or less")
                    ax.legend(fontsize=8)
                    plt.show()
                """#),
            .code(#"""
                # Routing over training from routing_traces (train.trace_tokens): the churn of each layer
                # between consecutive evaluations, the mean Jaccard distance of a traced token's FFN expert
                # set (zero experts left out; 0 = the same set, 1 = disjoint), as in `longcat-lab churn`.
                traces = table("routing_traces")
                if traces.empty:
                    print("no routing_traces recorded (train.trace_tokens = 0, or a run older than schema version 4)")
                else:
                    n_ffn = {n: int(configs[n].get("model.n_routed_experts", 0)) for n in RUNS}
                    traces["ffn_set"] = [frozenset(int(x) for x in str(e or "").split() if int(x) < n_ffn[name])
                                         for e, name in zip(traces["experts"], traces["name"])]
                    rows = []
                    for (name, layer), g in traces.groupby(["name", "layer"]):
                        steps = sorted(g["step"].unique())
                        by_step = {s: g[g["step"] == s].set_index(["sequence", "position"])["ffn_set"] for s in steps}
                        for a, b in zip(steps, steps[1:]):
                            both = by_step[a].index.intersection(by_step[b].index)
                            d = [1 - len(x & y) / len(x | y) if (x | y) else 0.0
                                 for x, y in zip(by_step[a].loc[both], by_step[b].loc[both])]
                            if d:
                                rows.append({"name": name, "layer": layer, "from": a, "to": b, "churn": float(np.mean(d)),
                                             "tokens": len(d)})
                    churn = pd.DataFrame(rows)
                    if churn.empty:
                        print("routing_traces hold fewer than two evaluations per run: no churn to show")
                    else:
                        display(churn)
                        fig, ax = plt.subplots(figsize=(9, 4.5))
                        for (name, layer), g in churn.groupby(["name", "layer"], sort=False):
                            label = f"{name}, layer {layer}" if len(RUNS) > 1 else f"layer {layer}"
                            ax.plot(g["to"], g["churn"], "o-", label=label)
                        ax.axhline(\#(RoutingFreeze.standardTolerance), color="0.3", ls="--", lw=0.8,
                                   label="freeze tolerance \#(RoutingFreeze.standardTolerance)")
                        ax.set(xlabel="evaluation step (churn since the previous one)", ylabel="churn (mean Jaccard distance)",
                               title="routing churn between consecutive evaluations", ylim=(0, 1))
                        ax.legend(fontsize=8)
                        plt.show()
                """#),
            .code(#"""
                # Variance statistics per layer and module at each run's first recorded step.
                variance = table("variance_stats")
                if variance.empty:
                    print("no variance_stats recorded")
                else:
                    first = variance[variance["step"] == variance.groupby("name")["step"].transform("min")].copy()
                    first["group"] = np.where(first["layer"] < 0, "model " + first["module"],
                                              "L" + first["layer"].astype(str) + " " + first["module"])
                    for statistic, d in first.groupby("statistic"):
                        d.pivot_table(index="group", columns="name", values="value").plot.bar(figsize=(10, 4), rot=30)
                        plt.ylabel(statistic)
                        plt.title(f"{statistic} at the first recorded step")
                        plt.show()
                """#),
        ]
    }
}
