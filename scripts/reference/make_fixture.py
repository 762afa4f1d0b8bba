#!/usr/bin/env python3
"""Builds the reference fixture that the lab's LabInterchangeTests check against.

Run by hand (never by CI), with torch and a transformers that has `models/longcat_flash`:

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch transformers numpy safetensors
    /tmp/refenv/bin/python scripts/reference/make_fixture.py Tests/LabInterchangeTests/Fixtures/reference

It builds a tiny `LongcatFlashForCausalLM` (zero experts, both MLA scales, a routed scaling
factor that is not 1, random router biases that change some choices), runs one forward and
backward pass on a fixed token batch with the causal-LM loss, and writes:

    config.json, model.safetensors   what `save_pretrained` writes (the lab imports these)
    tokens.txt                       the batch, one sequence per line (`longcat-lab logits` format)
    expected.safetensors             logits [B, T, V]; per layer l: routing.l [B*T, K] (chosen
                                     experts, ascending, as floats), margin.l [B*T] (K-th minus
                                     (K+1)-th biased score); grad.<tensor name> for every
                                     parameter under the file's tensor names
    metadata.json                    versions, seed, loss, margins, coverage counts

The lab's test compares logits within 1e-4 absolute and gradients within 1e-3 relative, after
comparing the routing of every token whose margin is at least 1e-5.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import LongcatFlashConfig, LongcatFlashForCausalLM

SEED = 20250901
BATCH, TIME = 3, 12


def tiny_config() -> LongcatFlashConfig:
    """A tiny model with every feature the lab shares with the reference."""
    return LongcatFlashConfig(
        vocab_size=64, hidden_size=32, num_layers=2, num_attention_heads=2, num_key_value_heads=2,
        q_lora_rank=16, kv_lora_rank=8, qk_nope_head_dim=8, qk_rope_head_dim=4, head_dim=4, v_head_dim=8,
        ffn_hidden_size=64, expert_ffn_hidden_size=16, n_routed_experts=4, zero_expert_num=2, moe_topk=3,
        routed_scaling_factor=2.5, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=False, max_position_embeddings=64, initializer_range=0.1,
        mla_scale_q_lora=True, mla_scale_kv_lora=True, bos_token_id=None, eos_token_id=None,
        attn_implementation="eager")


def perturb(model: LongcatFlashForCausalLM, gen: torch.Generator) -> None:
    """Weights that make every mapping visible: norm weights away from 1 (a swapped norm shows),
    a unit-variance embedding, a sharper router (clear top-k margins) and biases that change
    some choices (the bias must choose, never weight)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
        model.model.embed_tokens.weight.copy_(torch.randn(model.model.embed_tokens.weight.shape, generator=gen))
        for layer in model.model.layers:
            r = layer.mlp.router
            r.classifier.weight.copy_(0.3 * torch.randn(r.classifier.weight.shape, generator=gen))
            r.e_score_correction_bias.copy_(0.05 * torch.randn(r.e_score_correction_bias.shape, generator=gen))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="fixture folder (e.g. Tests/LabInterchangeTests/Fixtures/reference)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    config = tiny_config()
    model = LongcatFlashForCausalLM(config).float()
    perturb(model, gen)
    model.eval()

    tokens = torch.randint(0, config.vocab_size, (BATCH, TIME), generator=gen)
    k, n_routed = config.moe_topk, config.n_routed_experts

    # Capture each layer's router scores (the forward hook sees the router's input).
    routing, margins, bias_changed = [], [], 0
    def hook(router, inputs, outputs):
        nonlocal bias_changed
        logits, _, indices = outputs
        scores = logits.softmax(-1)
        biased = scores + router.e_score_correction_bias
        top = torch.sort(biased, dim=-1, descending=True).values
        margins.append((top[:, k - 1] - top[:, k]).detach())
        routing.append(torch.sort(indices, dim=-1).values.detach())
        unbiased = torch.sort(torch.topk(scores, k, dim=-1).indices, dim=-1).values
        bias_changed += int((unbiased != routing[-1]).any(-1).sum())
    handles = [layer.mlp.router.register_forward_hook(hook) for layer in model.model.layers]

    out = model(input_ids=tokens, labels=tokens)
    out.loss.backward()
    for h in handles:
        h.remove()

    # save_pretrained writes the per-expert file layout (LONGCAT.md section 9).
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name in ("config.json", "model.safetensors"):
            shutil.copy(os.path.join(tmp, name), os.path.join(args.out, name))

    expected = {"logits": out.logits.detach().contiguous()}
    for l, (r, m) in enumerate(zip(routing, margins)):
        expected[f"routing.{l}"] = r.float().contiguous()
        expected[f"margin.{l}"] = m.float().contiguous()
    f = config.expert_ffn_hidden_size
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        g = p.grad.detach()
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = name[: -len("gate_up_proj")]
            for e in range(n_routed):
                expected[f"grad.{prefix}{e}.gate_proj.weight"] = g[e, :f].contiguous()
                expected[f"grad.{prefix}{e}.up_proj.weight"] = g[e, f:].contiguous()
        elif name.endswith("mlp.experts.down_proj"):
            prefix = name[: -len("down_proj")]
            for e in range(n_routed):
                expected[f"grad.{prefix}{e}.down_proj.weight"] = g[e].contiguous()
        else:
            expected[f"grad.{name}"] = g.contiguous()

    all_margins = torch.cat(margins)
    chosen = torch.cat(routing)
    zero_slots = int((chosen >= n_routed).sum())
    meta = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "batch": BATCH,
        "time": TIME,
        "attn_implementation": "eager",
        "loss": float(out.loss.detach()),
        "min_margin": float(all_margins.min()),
        "tokens_below_1e-5_margin": int((all_margins < 1e-5).sum()),
        "zero_expert_slots": zero_slots,
        "ffn_expert_slots": int(chosen.numel()) - zero_slots,
        "tokens_whose_choice_the_bias_changed": bias_changed,
        "command": "python3 scripts/reference/make_fixture.py Tests/LabInterchangeTests/Fixtures/reference",
    }
    save_file(expected, os.path.join(args.out, "expected.safetensors"),
              metadata={k: str(v) for k, v in meta.items()})
    with open(os.path.join(args.out, "tokens.txt"), "w") as fh:
        for row in tokens.tolist():
            fh.write(" ".join(map(str, row)) + "\n")
    with open(os.path.join(args.out, "metadata.json"), "w") as fh:
        json.dump(meta, fh, indent=2, sort_keys=True)
        fh.write("\n")
    print(json.dumps(meta, indent=2, sort_keys=True))
    if zero_slots == 0 or bias_changed == 0 or meta["tokens_below_1e-5_margin"] > 0:
        sys.exit("fixture does not cover zero experts and bias choices with clear margins; change SEED")


if __name__ == "__main__":
    main()
