#!/usr/bin/env python3
"""Records Hugging Face transformers' logits for the real preset models, as fixtures for the Inference tests.

transformers loads the same GGUF file we run (`from_pretrained(dir, gguf_file=name, torch_dtype=float32)`,
which dequantises every tensor to fp32), and its tokenizer built from that GGUF turns a few real source files
of this machine into token ids. Each file is one segment evaluated from an empty context. For every position
the fixture keeps the top-1 id, the top-5 ids and their logits, and the logits of a fixed random sample of
vocabulary ids (the same ids at every position), from which the test computes max and mean absolute
differences without storing whole vocabularies.

Output (committed; CI never runs this script), per model in Tests/InferenceTests/Fixtures/:
  ref-<preset>.json         {"model", "vocab_size", "sample_ids": [int], "segments": [
                              {"source", "tokens": [int], "top1": [int], "top5_ids": [[int]*5],
                               "top5_logits": [[float]*5]}]}
  ref-<preset>.sample.f32   little-endian float32, (total positions, len(sample_ids)) in segment order.

Run: .venv-ref/bin/python Scripts/inference_reference_logits.py [--models-dir ~/.cache/codegen-lsp/models]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures")

PRESETS = ["smollm2-135m", "qwen2.5-coder-0.5b"]
# (source file, number of tokens from its start). The first segment is long to exercise a deep KV cache.
SOURCES = [
    ("/usr/lib/python3.11/json/decoder.py", 512),
    ("/root/.pyenv/versions/3.7.16/lib/python3.7/distutils/tests/xxmodule.c", 160),
    (os.path.join(ROOT, "Sources", "CodeCompletion", "CompletionProvider.swift"), 160),
]
SAMPLE = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", default=os.path.expanduser("~/.cache/codegen-lsp/models"))
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    for preset in PRESETS:
        if args.only and preset != args.only:
            continue
        name = preset + ".gguf"
        tok = AutoTokenizer.from_pretrained(args.models_dir, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(args.models_dir, gguf_file=name, torch_dtype=torch.float32)
        model.eval()
        vocab = model.config.vocab_size
        rng = np.random.default_rng(7)
        sample_ids = sorted(rng.choice(vocab, size=SAMPLE, replace=False).tolist())
        segments = []
        samples = []
        for path, count in SOURCES:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            ids = tok(text, add_special_tokens=False)["input_ids"][:count]
            assert len(ids) == count, f"{path}: only {len(ids)} tokens"
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0].float().numpy()  # (count, vocab)
            top5 = np.argsort(-logits, axis=1)[:, :5]
            segments.append({
                "source": path.replace(ROOT + "/", ""),
                "tokens": ids,
                "top1": top5[:, 0].tolist(),
                "top5_ids": top5.tolist(),
                "top5_logits": [[round(float(logits[i, j]), 5) for j in row] for i, row in enumerate(top5)],
            })
            samples.append(logits[:, sample_ids].astype("<f4"))
            print(f"{preset}: {path}: {count} positions", file=sys.stderr)
        meta = {"model": name, "vocab_size": vocab, "sample_ids": sample_ids, "segments": segments}
        with open(os.path.join(OUT, f"ref-{preset}.json"), "w") as f:
            json.dump(meta, f, separators=(",", ":"))
        np.concatenate(samples, axis=0).tofile(os.path.join(OUT, f"ref-{preset}.sample.f32"))


if __name__ == "__main__":
    main()
