#!/usr/bin/env python3
"""llama.cpp reference timings through llama-cpp-python's low-level API (no high-level Python loop).

Same protocol as our `codegen-bench engine`: prompt processing of 512 tokens (one llama_decode of a 512-token batch,
n_batch = n_ubatch = 512, from an empty cache) and generation of 64 tokens (llama_decode of one token at a time
with a greedy argmax over the logits, starting after one prompt token), with n_threads = 2; best of 2 runs after a
warm-up. The prompt token ids are those of our fixture (Tests/InferenceTests/Fixtures/ref-<preset>.json).

Run: Benchmarks/engine/.venv-llama-cpp/bin/python Benchmarks/engine/llama_cpp_bench.py [model.gguf ...]
"""

import ctypes
import json
import os
import sys
import time

import llama_cpp as L
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("CODEGEN_LSP_MODELS_DIR", os.path.expanduser("~/.cache/codegen-lsp/models"))
THREADS = int(os.environ.get("CODEGEN_LSP_BENCH_THREADS", "2"))


def prompt_ids(model_path):
    name = os.path.basename(model_path)
    preset = "qwen2.5-coder-0.5b" if name.startswith("qwen2.5-coder-0.5b") else name.replace(".gguf", "")
    with open(os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", f"ref-{preset}.json")) as f:
        return json.load(f)["segments"][0]["tokens"][:512]


def clear(ctx):
    if hasattr(L, "llama_get_memory") and hasattr(L, "llama_memory_clear"):
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
    elif hasattr(L, "llama_kv_self_clear"):
        L.llama_kv_self_clear(ctx)
    else:
        L.llama_kv_cache_clear(ctx)


def decode(ctx, ids):
    arr = (L.llama_token * len(ids))(*ids)
    rc = L.llama_decode(ctx, L.llama_batch_get_one(arr, len(ids)))
    if rc != 0:
        raise RuntimeError(f"llama_decode returned {rc}")


def bench(path):
    L.llama_backend_init()
    mparams = L.llama_model_default_params()
    load = getattr(L, "llama_model_load_from_file", None) or L.llama_load_model_from_file
    model = load(path.encode(), mparams)
    cparams = L.llama_context_default_params()
    cparams.n_ctx = 1024
    cparams.n_batch = 512
    cparams.n_ubatch = 512
    cparams.n_threads = THREADS
    cparams.n_threads_batch = THREADS
    init = getattr(L, "llama_init_from_model", None) or L.llama_new_context_with_model
    ctx = init(model, cparams)
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    ids = prompt_ids(path)

    clear(ctx)
    decode(ctx, ids[:80])  # warm-up: page in the weights
    pp = 0.0
    for _ in range(2):
        clear(ctx)
        t = time.perf_counter()
        decode(ctx, ids)
        pp = max(pp, len(ids) / (time.perf_counter() - t))
    tg = 0.0
    for _ in range(2):
        clear(ctx)
        decode(ctx, ids[:1])
        t = time.perf_counter()
        for _ in range(64):
            logits = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
            decode(ctx, [int(logits.argmax())])
        tg = max(tg, 64 / (time.perf_counter() - t))
    print(f"LLAMA.CPP {os.path.basename(path)} threads={THREADS}: pp512 {pp:.1f} tok/s, tg64 {tg:.1f} tok/s", flush=True)
    L.llama_free(ctx)
    (getattr(L, "llama_model_free", None) or L.llama_free_model)(model)


if __name__ == "__main__":
    paths = sys.argv[1:] or [os.path.join(MODELS, f) for f in ("smollm2-135m.gguf", "qwen2.5-coder-0.5b.gguf")]
    for p in paths:
        bench(p)
