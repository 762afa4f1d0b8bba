#!/usr/bin/env python3
"""Checks a `longcat-lab export-hf` directory in transformers, by hand (not run by CI).

    longcat-lab export-hf RUN /tmp/export
    longcat-lab logits RUN_STEP_DIR --tokens batch.txt --out /tmp/lab.npy --routing-out /tmp/lab_routing.npy
    python scripts/reference/check_export.py /tmp/export --tokens batch.txt \
        --logits /tmp/lab.npy --routing /tmp/lab_routing.npy

Loads the directory with `LongcatFlashForCausalLM.from_pretrained` (no code change, every
tensor accounted for), runs the token batch, and compares: routing first (per layer, tokens
whose top-k margin is below 1e-5 are reported but not counted as differences), then the
logits (max absolute difference) and the loss (the lab's `.json` beside its logits).
Exits non-zero when a weight is missing or unexpected, a clear routing choice differs, or the
logits differ by more than --tolerance.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import LongcatFlashForCausalLM


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export", help="directory written by longcat-lab export-hf")
    ap.add_argument("--tokens", required=True, help="token file (one sequence per line)")
    ap.add_argument("--logits", required=True, help="the lab's logits .npy for the same tokens")
    ap.add_argument("--routing", help="the lab's routing .npy (from --routing-out)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max absolute logits difference")
    args = ap.parse_args()

    model, info = LongcatFlashForCausalLM.from_pretrained(args.export, output_loading_info=True,
                                                         attn_implementation="eager")
    model = model.float().eval()
    problems = [f"{kind}: {sorted(keys)}" for kind, keys in info.items() if keys]
    with open(args.tokens) as fh:
        tokens = torch.tensor([[int(t) for t in line.split()] for line in fh if line.strip()])

    k = model.config.moe_topk
    routing, margins = [], []
    def hook(router, inputs, outputs):
        logits, _, indices = outputs
        biased = logits.softmax(-1) + router.e_score_correction_bias
        top = torch.sort(biased, dim=-1, descending=True).values
        margins.append((top[:, k - 1] - top[:, k]).numpy() if top.shape[-1] > k else np.full(top.shape[0], np.inf))
        routing.append(torch.sort(indices, dim=-1).values.numpy())
    for layer in model.model.layers:
        layer.mlp.router.register_forward_hook(hook)
    with torch.no_grad():
        out = model(input_ids=tokens, labels=tokens)

    print(f"transformers {transformers.__version__}, torch {torch.__version__}; loading report clean: {not problems}")
    if args.routing:
        lab_routing = np.load(args.routing)
        for l, (ref, margin) in enumerate(zip(routing, margins)):
            differ = (lab_routing[l] != ref).any(-1)
            clear = differ & (margin >= 1e-5)
            print(f"layer {l}: routing differs for {int(differ.sum())} of {len(differ)} tokens "
                  f"({int(clear.sum())} with margin >= 1e-5); min margin {margin.min():.3g}")
            if clear.any():
                problems.append(f"layer {l}: {int(clear.sum())} tokens routed differently with a clear margin")
    lab_logits = np.load(args.logits)
    diff = float(np.abs(lab_logits - out.logits.numpy()).max())
    print(f"logits {tuple(lab_logits.shape)}: max abs difference {diff:.3g} (largest |logit| "
          f"{float(out.logits.abs().max()):.3g})")
    loss_path = os.path.splitext(args.logits)[0] + ".json"
    if os.path.exists(loss_path):
        with open(loss_path) as fh:
            lab_loss = json.load(fh)["loss"]
        print(f"loss: lab {lab_loss:.8f}, transformers {float(out.loss):.8f}, difference {abs(lab_loss - float(out.loss)):.3g}")
    if diff > args.tolerance:
        problems.append(f"logits differ by {diff:.3g} > {args.tolerance}")
    if problems:
        sys.exit("FAILED:\n  " + "\n  ".join(problems))
    print("OK")


if __name__ == "__main__":
    main()
