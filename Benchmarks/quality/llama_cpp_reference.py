#!/usr/bin/env python3
"""llama.cpp reference completions for humaneval.py, through llama-cpp-python's low-level API.

Reads one JSON request per line on stdin and writes one JSON result per line on stdout, in order, flushing after
each (humaneval.py drives it request by request, interleaved with codegen-lsp):
- `{"id", "mode": "continue", "prompt", "max_tokens", "stop": [...], "stop_column0": bool}`: greedy plain
  continuation of the prompt (tokenized as llama.cpp does, BOS where the model's metadata asks for one), cut before
  the first stop string (and, with stop_column0, before the first line that starts at column 0 with a non-blank
  character); ends at end of generation or after max_tokens;
- `{"id", "mode": "fim", "prefix", "suffix", "max_tokens"}`: greedy fill-in-the-middle in the PSM order of
  llama.cpp's /infill, `<|fim_prefix|>` prefix `<|fim_suffix|>` suffix `<|fim_middle|>` (Qwen), or the StarCoder
  `<fim_*>` tokens; ends at end of generation (llama.cpp's end-of-generation tokens, and the family's FIM pad,
  file separator, repository name and <|endoftext|> tokens) or after max_tokens. A model without FIM tokens
  completes the prefix alone (the result says "mode": "prefix").
Result: `{"id", "text", "ms", "promptTokens", "computedTokens", "generatedTokens", "stopReason": "eog" | "stop" |
"length", "mode"}` or `{"id", "error"}`. The first line written is `{"ready": true, "model", "fim": family or null,
"threads"}`; llama.cpp's own log goes to stderr.

Greedy is an argmax over the logits, as in llama_cpp_bench.py. The KV cache keeps the longest common token prefix
of consecutive requests (llama-server's cache_prompt does the same), so `ms` is comparable with the `ms` of
`codegen-lsp complete --jsonl`. Threads: CODEGEN_LSP_BENCH_THREADS, else one per core.

Run: Benchmarks/engine/.venv-llama-cpp/bin/python Benchmarks/quality/llama_cpp_reference.py MODEL.gguf [--n-ctx N]
"""

import argparse
import ctypes
import json
import os
import re
import sys
import time

import llama_cpp as L
import numpy as np

FIM_FAMILIES = [
    ("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
]
END_TEXTS = ["<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<fim_pad>", "<file_sep>", "<reponame>"]
COLUMN0 = re.compile(r"\n(?=\S)")


def _fn(*names):
    for name in names:
        if hasattr(L, name):
            return getattr(L, name)
    return None


class Model:
    def __init__(self, path, n_ctx, threads):
        L.llama_backend_init()
        mparams = L.llama_model_default_params()
        load = _fn("llama_model_load_from_file", "llama_load_model_from_file")
        self.model = load(path.encode(), mparams)
        if not self.model:
            raise SystemExit("cannot load %s" % path)
        cparams = L.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = 512
        cparams.n_ubatch = 512
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        init = _fn("llama_init_from_model", "llama_new_context_with_model")
        self.ctx = init(self.model, cparams)
        self.n_ctx = n_ctx
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.cached = []  # tokens whose keys and values are in the cache, from position 0
        self.is_eog = _fn("llama_vocab_is_eog", "llama_token_is_eog")
        add_bos = _fn("llama_vocab_get_add_bos", "llama_add_bos_token")
        self.add_bos = bool(add_bos(self.vocab)) if add_bos else False
        self.bos = L.llama_vocab_bos(self.vocab) if hasattr(L, "llama_vocab_bos") else L.llama_token_bos(self.vocab)
        self.fim = None
        for family, pre, suf, mid in FIM_FAMILIES:
            ids = [self.special_id(t) for t in (pre, suf, mid)]
            if all(i is not None for i in ids):
                self.fim = (family, ids[0], ids[1], ids[2])
                break
        self.end_ids = {i for i in (self.special_id(t) for t in END_TEXTS) if i is not None}

    def tokenize(self, text, parse_special=False):
        data = text.encode("utf-8")
        capacity = len(data) + 16
        buf = (L.llama_token * capacity)()
        n = L.llama_tokenize(self.vocab, data, len(data), buf, capacity, False, parse_special)
        if n < 0:
            capacity = -n
            buf = (L.llama_token * capacity)()
            n = L.llama_tokenize(self.vocab, data, len(data), buf, capacity, False, parse_special)
        return list(buf[:n])

    def special_id(self, text):
        ids = self.tokenize(text, parse_special=True)
        return ids[0] if len(ids) == 1 else None

    def piece(self, token):
        buf = ctypes.create_string_buffer(256)
        n = L.llama_token_to_piece(self.vocab, token, buf, 256, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = L.llama_token_to_piece(self.vocab, token, buf, -n, 0, False)
        return buf.raw[:n]

    def _clear(self):
        if hasattr(L, "llama_get_memory") and hasattr(L, "llama_memory_clear"):
            L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
        elif hasattr(L, "llama_kv_self_clear"):
            L.llama_kv_self_clear(self.ctx)
        else:
            L.llama_kv_cache_clear(self.ctx)
        self.cached = []

    def _truncate(self, n):
        """Drops cache positions n and later; False where the cache cannot do it."""
        if hasattr(L, "llama_get_memory") and hasattr(L, "llama_memory_seq_rm"):
            ok = L.llama_memory_seq_rm(L.llama_get_memory(self.ctx), 0, n, -1)
        elif hasattr(L, "llama_kv_self_seq_rm"):
            ok = L.llama_kv_self_seq_rm(self.ctx, 0, n, -1)
        elif hasattr(L, "llama_kv_cache_seq_rm"):
            ok = L.llama_kv_cache_seq_rm(self.ctx, 0, n, -1)
        else:
            return False
        if ok:
            self.cached = self.cached[:n]
        return bool(ok)

    def _decode(self, ids):
        for start in range(0, len(ids), 512):
            chunk = ids[start:start + 512]
            arr = (L.llama_token * len(chunk))(*chunk)
            rc = L.llama_decode(self.ctx, L.llama_batch_get_one(arr, len(chunk)))
            if rc != 0:
                raise RuntimeError("llama_decode returned %d" % rc)
            self.cached.extend(chunk)

    def prefill(self, ids):
        """Brings the cache to `ids` (reusing the common prefix); returns the number of tokens computed."""
        if not ids:
            raise ValueError("empty prompt")
        common = 0
        for a, b in zip(self.cached, ids):
            if a != b:
                break
            common += 1
        common = min(common, len(ids) - 1)  # at least one token is decoded, for its logits
        if common < len(self.cached) and not self._truncate(common):
            self._clear()
            common = 0
        self._decode(ids[common:])
        return len(ids) - common

    def argmax(self):
        logits = np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, -1), shape=(self.n_vocab,))
        return int(logits.argmax())

    def generate(self, ids, max_tokens, stop=(), stop_column0=False):
        if len(ids) + max_tokens > self.n_ctx:
            raise ValueError("prompt of %d tokens does not fit n_ctx %d with %d to generate" % (
                len(ids), self.n_ctx, max_tokens))
        computed = self.prefill(ids)
        out = b""
        reason = "length"
        generated = 0
        for _ in range(max_tokens):
            token = self.argmax()
            if token in self.end_ids or self.is_eog(self.vocab, token):
                reason = "eog"
                break
            generated += 1
            out += self.piece(token)
            if stop or stop_column0:
                text = out.decode("utf-8", errors="ignore")
                cut = cut_at_stop(text, stop, stop_column0)
                if cut is not None:
                    return text[:cut], computed, generated, "stop"
            self._decode([token])
        return out.decode("utf-8", errors="replace"), computed, generated, reason


def cut_at_stop(text, stop, stop_column0):
    positions = [text.find(s) for s in stop if s and s in text]
    if stop_column0:
        match = COLUMN0.search(text)
        if match:
            positions.append(match.start())
    return min(positions) if positions else None


def answer(model, request):
    mode = request.get("mode", "continue")
    max_tokens = int(request.get("max_tokens", 64))
    if mode == "fim" and model.fim:
        _, pre, suf, mid = model.fim
        ids = ([model.bos] if model.add_bos else []) + [pre] + model.tokenize(request["prefix"]) + [suf] + \
            model.tokenize(request["suffix"]) + [mid]
        text, computed, generated, reason = model.generate(ids, max_tokens)
    else:
        prompt = request["prompt"] if mode == "continue" else request["prefix"]
        ids = ([model.bos] if model.add_bos else []) + model.tokenize(prompt)
        text, computed, generated, reason = model.generate(
            ids, max_tokens, request.get("stop") or (), bool(request.get("stop_column0")))
        if mode == "fim":
            mode = "prefix"
    return {"text": text, "promptTokens": len(ids), "computedTokens": computed, "generatedTokens": generated,
            "stopReason": reason, "mode": mode}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="GGUF file")
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args()
    threads = int(os.environ.get("CODEGEN_LSP_BENCH_THREADS", "0")) or os.cpu_count() or 1
    model = Model(args.model, args.n_ctx, threads)
    print(json.dumps({"ready": True, "model": os.path.basename(args.model), "fim": model.fim and model.fim[0],
                      "threads": threads}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = {}
        try:
            request = json.loads(line)
            start = time.perf_counter()
            out = answer(model, request)
            out["ms"] = round((time.perf_counter() - start) * 1000, 2)
        except Exception as error:  # one bad request does not stop the batch
            out = {"error": "%s: %s" % (type(error).__name__, error)}
        if isinstance(request, dict) and "id" in request:
            out["id"] = request["id"]
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
