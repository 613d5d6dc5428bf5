#!/usr/bin/env python3
"""Makes Tests/GGUFTests/Fixtures/dequant.gguf: quantised rows of every supported ggml type with the float32 rows
that the `gguf` Python package's `gguf.quants.dequantize` produces from them.

Rows of the types the real models hold (Q4_K, Q5_0, Q6_K, Q8_0, F32 from Qwen2.5-Coder-0.5B Q4_K_M; Q4_1, Q8_0 from
SmolLM2-135M) are copied byte for byte from the model files. The other types are made by quantising real weights
(dequantised rows of those models) with `gguf.quants.quantize` (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0); Q5_K has no
quantiser in the package, so a small one is written here (the bytes only need to be a valid Q5_K block: the expected
values still come from the package's dequantiser). Q2_K and Q3_K get random blocks with sane scales.

For each case NAME the file holds the tensor NAME (the packed rows, ggml type as named) and NAME.expected (F32, the
same shape). Run with the reference venv:  .venv-ref/bin/python Scripts/make_gguf_fixtures.py
Models are read from $CODEGEN_LSP_MODELS_DIR (default ~/.cache/codegen-lsp/models).
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

MODELS = os.environ.get("CODEGEN_LSP_MODELS_DIR", os.path.expanduser("~/.cache/codegen-lsp/models"))
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "GGUFTests", "Fixtures", "dequant.gguf")


def tensor(reader, name):
    for t in reader.tensors:
        if t.name == name:
            return t
    sys.exit(f"tensor {name} not found")


def raw_rows(reader, name, rows):
    """The packed bytes of some rows of a 2-D tensor, and its type: (len(rows), bytes_per_row) uint8."""
    t = tensor(reader, name)
    data = np.asarray(t.data)
    if t.tensor_type in (T.F32, T.F16, T.BF16):
        data = data.reshape(-1, int(t.shape[0])) if data.ndim == 1 else data
        return data[rows].view(np.uint8).reshape(len(rows), -1), t.tensor_type
    return data[rows].reshape(len(rows), -1), t.tensor_type


def float_rows(reader, name, rows):
    packed, qtype = raw_rows(reader, name, rows)
    return dequantize(packed, qtype).astype(np.float32)


def quantize_q5_k(x):
    """A plain Q5_K quantiser (not llama.cpp's search): per 32-element sub-block, scale = (max-min)/31 and
    offset = -min, both quantised to 6 bits against the block's d and dmin."""
    n = x.shape[-1]
    assert n % 256 == 0
    blocks = x.reshape(-1, 256).astype(np.float32)
    out = []
    for b in blocks:
        sub = b.reshape(8, 32)
        mins = np.minimum(sub.min(axis=1), 0)
        scales = (sub.max(axis=1) - mins) / 31
        d = np.float16(scales.max() / 63 if scales.max() > 0 else 0)
        dmin = np.float16((-mins).max() / 63 if (-mins).max() > 0 else 0)
        sc = np.clip(np.round(scales / np.float32(d)) if d > 0 else np.zeros(8), 0, 63).astype(np.uint8)
        mn = np.clip(np.round(-mins / np.float32(dmin)) if dmin > 0 else np.zeros(8), 0, 63).astype(np.uint8)
        q = np.zeros((8, 32), dtype=np.uint8)
        for j in range(8):
            step = np.float32(d) * sc[j]
            if step > 0:
                q[j] = np.clip(np.round((sub[j] + np.float32(dmin) * mn[j]) / step), 0, 31).astype(np.uint8)
        packed_scales = np.zeros(12, dtype=np.uint8)
        for j in range(8):
            if j < 4:
                packed_scales[j] = sc[j]
                packed_scales[j + 4] = mn[j]
            else:
                packed_scales[j + 4] = (sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4)
                packed_scales[j - 4] |= (sc[j] >> 4) << 6
                packed_scales[j] |= (mn[j] >> 4) << 6
        qh = np.zeros(32, dtype=np.uint8)
        qs = np.zeros(128, dtype=np.uint8)
        for i in range(4):
            lo, hi = q[2 * i], q[2 * i + 1]
            qs[32 * i:32 * i + 32] = (lo & 0x0F) | ((hi & 0x0F) << 4)
            qh |= ((lo >> 4) & 1) << (2 * i)
            qh |= ((hi >> 4) & 1) << (2 * i + 1)
        out.append(np.concatenate([np.array([d, dmin], dtype=np.float16).view(np.uint8), packed_scales, qh, qs]))
    return np.concatenate(out).reshape(x.shape[0], -1)


def random_k_blocks(rng, qtype, rows, cols):
    """Random blocks of Q2_K or Q3_K with small positive f16 scales (so that every value is finite)."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    nb = rows * cols // block_size
    b = rng.integers(0, 256, size=(nb, type_size), dtype=np.uint8)
    halves = rng.uniform(1e-3, 2e-2, size=(nb, 2)).astype(np.float16).view(np.uint8)
    if qtype == T.Q2_K:
        b[:, 80:84] = halves.reshape(nb, 4)
    else:
        b[:, 108:110] = halves[:, 0:2]
    return b.reshape(rows, -1)


def main():
    qwen = gguf.GGUFReader(os.path.join(MODELS, "qwen2.5-coder-0.5b.gguf"))
    smol = gguf.GGUFReader(os.path.join(MODELS, "smollm2-135m.gguf"))
    rng = np.random.default_rng(1234)
    cases = []  # (name, packed uint8 (rows, bytes) or float array, qtype)

    # Real rows, byte for byte.
    cases.append(("real.qwen.q4_k.blk2_ffn_down", *raw_rows(qwen, "blk.2.ffn_down.weight", [0, 447, 895])))
    cases.append(("real.qwen.q6_k.blk3_ffn_down", *raw_rows(qwen, "blk.3.ffn_down.weight", [0, 500, 895])))
    cases.append(("real.qwen.q5_0.token_embd", *raw_rows(qwen, "token_embd.weight", [0, 9707, 151935])))
    cases.append(("real.qwen.q5_0.blk0_attn_q", *raw_rows(qwen, "blk.0.attn_q.weight", [1, 448])))
    cases.append(("real.qwen.q8_0.output", *raw_rows(qwen, "output.weight", [0, 13, 151935])))
    cases.append(("real.qwen.q8_0.blk3_attn_v", *raw_rows(qwen, "blk.3.attn_v.weight", [0, 127])))
    cases.append(("real.smol.q4_1.blk0_ffn_down", *raw_rows(smol, "blk.0.ffn_down.weight", [0, 300, 575])))
    cases.append(("real.smol.q4_1.blk29_attn_k", *raw_rows(smol, "blk.29.attn_k.weight", [5, 191])))
    cases.append(("real.smol.q8_0.token_embd", *raw_rows(smol, "token_embd.weight", [0, 49151])))
    bias = np.asarray(tensor(qwen, "blk.0.attn_q.bias").data).reshape(1, -1)
    cases.append(("real.qwen.f32.blk0_attn_q_bias", bias.view(np.uint8), T.F32))

    # Real weights, quantised here with the package's quantisers.
    gate = float_rows(qwen, "blk.0.ffn_gate.weight", [3, 4000])          # (2, 896)
    down = float_rows(qwen, "blk.5.ffn_down.weight", [7, 800])           # (2, 4864)
    smol_q = float_rows(smol, "blk.0.attn_q.weight", [0, 100])           # (2, 576)
    for qtype in (T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        for label, rows in (("qwen_gate", gate), ("smol_q", smol_q)):
            packed = quantize(rows, qtype)
            packed = packed.view(np.uint8).reshape(rows.shape[0], -1)
            cases.append((f"made.{qtype.name.lower()}.{label}", packed, qtype))
    cases.append(("made.q5_k.qwen_down", quantize_q5_k(down), T.Q5_K))
    cases.append(("made.q5_k.qwen_gate_1024", quantize_q5_k(gate[:, :768]), T.Q5_K))
    cases.append(("random.q2_k", random_k_blocks(rng, T.Q2_K, 2, 512), T.Q2_K))
    cases.append(("random.q3_k", random_k_blocks(rng, T.Q3_K, 2, 512), T.Q3_K))

    writer = gguf.GGUFWriter(OUT, arch="dequant-fixture")
    writer.add_string("fixture.generator", "Scripts/make_gguf_fixtures.py")
    writer.add_string("fixture.gguf_version", getattr(gguf, "__version__", "unknown"))
    for name, packed, qtype in cases:
        packed = np.ascontiguousarray(packed)
        expected = dequantize(packed, qtype).astype(np.float32)
        assert np.all(np.isfinite(expected)), name
        writer.add_tensor(name, packed, raw_shape=None, raw_dtype=qtype)
        writer.add_tensor(name + ".expected", expected)
        print(f"{name:40s} {qtype.name:5s} rows={expected.shape[0]} cols={expected.shape[1]}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
