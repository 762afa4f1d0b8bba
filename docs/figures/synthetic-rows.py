#!/usr/bin/env python3
"""Adds SYNTHETIC token_samples and variance_stats rows to a copy of a records database.

The trainer does not record these two tables yet; the README's `allocation` and `variance`
figures are drawn from rows made here, so that those figure kinds can be shown. Never run it
on a database whose numbers you mean to trust.

usage: synthetic-rows.py DATABASE RUN...

token_samples: at every evaluation step, 4 sequences x 64 bytes of a fixed passage, one row per
layer; a token's FFN-expert count is the layer's recorded mean at that step, shifted by its
byte class (punctuation and spaces fewer, word starts more), plus noise, clamped to [0, K].
variance_stats: 'variance' and 'grad_rms' of a few modules per layer, at step 0 and every
evaluation step, from a seeded generator.
"""
import random
import sqlite3
import sys

PASSAGE = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
           b"First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")


VARIANCE = "INSERT INTO variance_stats (run_id, step, layer, module, statistic, value) VALUES (?, ?, ?, ?, ?, ?)"


def byte_offset(b, prev):
    if chr(b).isalpha():
        return 0.6 if prev is None or not chr(prev).isalnum() else 0.1
    if chr(b).isdigit():
        return 0.0
    if chr(b).isspace():
        return -0.9
    return -0.6


def main(path, runs):
    con = sqlite3.connect(path)
    for name in runs:
        row = con.execute("SELECT run_id, config_toml FROM runs WHERE name = ?", (name,)).fetchone()
        if row is None:
            sys.exit(f"no run named {name!r} in {path}")
        run_id, toml = row
        top_k = int(next(l.split("=")[1] for l in toml.splitlines() if l.startswith("moe_topk")))
        rng = random.Random(name)
        eval_steps = [s for (s,) in con.execute(
            "SELECT step FROM steps WHERE run_id = ? AND eval_loss IS NOT NULL ORDER BY step", (run_id,))]
        layers = con.execute("SELECT step, layer, ffn_experts_mean FROM layer_steps WHERE run_id = ?", (run_id,)).fetchall()
        mean = {(s, l): m for s, l, m in layers}
        n_layers = 1 + max(l for _, l, _ in layers)
        con.execute("DELETE FROM token_samples WHERE run_id = ?", (run_id,))
        con.execute("DELETE FROM variance_stats WHERE run_id = ?", (run_id,))
        for step in eval_steps:
            for sample in range(4):
                start = rng.randrange(len(PASSAGE) - 64)
                for pos in range(64):
                    b = PASSAGE[start + pos]
                    prev = PASSAGE[start + pos - 1] if pos > 0 else None
                    for layer in range(n_layers):
                        m = mean.get((step, layer), top_k / 2) + byte_offset(b, prev) * (1.5 if layer == 0 else 0.7)
                        ffn = max(0, min(top_k, round(m + rng.gauss(0, 0.7))))
                        experts = " ".join(str(e) for e in sorted(rng.sample(range(16), ffn)))
                        con.execute("INSERT INTO token_samples (run_id, step, sample, position, layer, token, label, "
                                    "ffn_experts, experts) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                                    (run_id, step, sample, pos, layer, b, ffn, experts))
        base = rng.uniform(0.8, 1.2)
        for step in [0] + eval_steps:
            for layer in range(-1, n_layers):
                modules = ["embedding"] if layer < 0 else ["attention.output", "moe.output", "dense_ffn.output"]
                for module in modules:
                    growth = 1 + step / 400 * (0.5 + 0.2 * layer)
                    scale = {"embedding": 1.0, "attention.output": 0.6, "moe.output": 0.35, "dense_ffn.output": 0.5}[module]
                    con.execute(VARIANCE,
                                (run_id, step, layer, module, "variance", base * scale * growth * rng.uniform(0.95, 1.05)))
                    con.execute(VARIANCE,
                                (run_id, step, layer, module, "grad_rms", 1e-3 * scale / growth * rng.uniform(0.9, 1.1)))
    con.commit()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
