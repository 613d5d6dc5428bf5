#!/usr/bin/env python3
"""Builds the tiny random-weight models the Inference tests compare against Hugging Face transformers.

For every architecture variant the engine supports, this script
  1. builds a small random-weight model with transformers (fp32),
  2. writes it as a GGUF file with F32 weights, named and laid out as llama.cpp's convert_hf_to_gguf.py does
     (llama q/k rows permuted for ggml's "normal" rope; qwen2 left as is for NeoX rope; output.weight omitted
     when the embeddings are tied), with a minimal gpt2-style byte-level BPE vocabulary,
  3. records transformers' logits for a fixed token sequence at every position in a JSON file.

Output (committed; CI never runs this script): Tests/InferenceTests/Fixtures/tiny-<variant>.gguf and
tiny-<variant>.logits.json  {"variant", "tokens": [ids], "vocab_size", "logits": [[float] * vocab] * len(tokens)}.

Run: .venv-ref/bin/python Scripts/inference_make_tiny_models.py
"""

import json
import os
import sys

import numpy as np
import torch
from gguf import GGUFWriter, RopeScalingType, TokenType
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures")

HIDDEN = 32
FFN = 48
LAYERS = 2
SEQ = 24


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map (the byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def tiny_vocab():
    """256 byte tokens in byte order, a few merges, then special tokens (control)."""
    m = bytes_to_unicode()
    tokens = [m[b] for b in range(256)]
    merges = ["Ġ Ġ", "Ġ t", "e t", "r e", "i n", "Ġt et", "ĠĠ ĠĠ", "( )"]
    for merge in merges:
        a, b = merge.split(" ")
        tokens.append(a + b)
    types = [TokenType.NORMAL] * len(tokens)
    specials = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]
    tokens += specials
    types += [TokenType.CONTROL] * len(specials)
    return tokens, merges, types


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf's LlamaModel.permute: HF rotate-half layout -> ggml interleaved-pair layout."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def randomize(model: torch.nn.Module, seed: int):
    """Weights large enough that every layer matters (the default 0.02 init makes logits nearly constant)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / fan_in**0.5))


def variants():
    tokens, _, _ = tiny_vocab()
    vocab = len(tokens)
    common = dict(
        vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
        max_position_embeddings=256, bos_token_id=256 + 8, eos_token_id=256 + 8,
    )
    return [
        ("llama", "llama", LlamaConfig(**common, num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-5,
                                       rope_theta=10000.0, tie_word_embeddings=False)),
        ("llama-tied", "llama", LlamaConfig(**common, num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-5,
                                            rope_theta=10000.0, tie_word_embeddings=True)),
        ("llama-gqa", "llama", LlamaConfig(**common, num_attention_heads=8, num_key_value_heads=2, rms_norm_eps=1e-6,
                                           rope_theta=500.0, tie_word_embeddings=False)),
        ("llama-rope-linear", "llama", LlamaConfig(**common, num_attention_heads=4, num_key_value_heads=2,
                                                   rms_norm_eps=1e-5, tie_word_embeddings=False,
                                                   rope_parameters={"rope_type": "linear", "factor": 4.0,
                                                                    "rope_theta": 100.0})),
        ("qwen2", "qwen2", Qwen2Config(**common, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
                                       rope_theta=1000.0, tie_word_embeddings=True)),
    ]


def write_gguf(path: str, arch: str, cfg, model):
    tokens, merges, types = tiny_vocab()
    n_head = cfg.num_attention_heads
    n_kv = cfg.num_key_value_heads
    head_dim = cfg.hidden_size // n_head
    w = GGUFWriter(path, arch)
    w.add_name(os.path.basename(path)[:-5])
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    rope = cfg.rope_parameters
    w.add_rope_freq_base(float(rope["rope_theta"]))
    w.add_rope_dimension_count(head_dim)
    if rope.get("rope_type", "default") == "linear":
        w.add_rope_scaling_type(RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(rope["factor"]))
    w.add_vocab_size(len(tokens))
    w.add_file_type(0)  # ALL_F32
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    eot = tokens.index("<|endoftext|>")
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.add_add_bos_token(False)
    w.add_uint32("tokenizer.ggml.fim_pre_token_id", tokens.index("<|fim_prefix|>"))
    w.add_uint32("tokenizer.ggml.fim_suf_token_id", tokens.index("<|fim_suffix|>"))
    w.add_uint32("tokenizer.ggml.fim_mid_token_id", tokens.index("<|fim_middle|>"))

    sd = {k: v.detach().float().numpy().copy() for k, v in model.state_dict().items()}

    def t(name, array):
        w.add_tensor(name, np.ascontiguousarray(array.astype(np.float32)))

    t("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        t(b + "attn_norm.weight", sd[p + "input_layernorm.weight"])
        q = sd[p + "self_attn.q_proj.weight"]
        k = sd[p + "self_attn.k_proj.weight"]
        if arch == "llama":
            q = permute(q, n_head)
            k = permute(k, n_kv)
        t(b + "attn_q.weight", q)
        t(b + "attn_k.weight", k)
        t(b + "attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        for proj, gg in (("q_proj", "attn_q"), ("k_proj", "attn_k"), ("v_proj", "attn_v")):
            key = p + f"self_attn.{proj}.bias"
            if key in sd:
                t(b + gg + ".bias", sd[key])
        t(b + "attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        t(b + "ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        t(b + "ffn_gate.weight", sd[p + "mlp.gate_proj.weight"])
        t(b + "ffn_up.weight", sd[p + "mlp.up_proj.weight"])
        t(b + "ffn_down.weight", sd[p + "mlp.down_proj.weight"])
    t("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        t("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1234)
    for seed, (variant, arch, cfg) in enumerate(variants()):
        torch.manual_seed(seed)
        model = (LlamaForCausalLM if arch == "llama" else Qwen2ForCausalLM)(cfg).float().eval()
        randomize(model, 100 + seed)
        if cfg.tie_word_embeddings:
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        ids = rng.integers(0, cfg.vocab_size, size=SEQ).tolist()
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float().numpy()
        gguf_path = os.path.join(OUT, f"tiny-{variant}.gguf")
        write_gguf(gguf_path, arch, cfg, model)
        ref = {
            "variant": variant,
            "architecture": arch,
            "tokens": ids,
            "vocab_size": cfg.vocab_size,
            "logits": [[round(float(x), 6) for x in row] for row in logits],
        }
        with open(os.path.join(OUT, f"tiny-{variant}.logits.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
        print(f"{variant}: {os.path.getsize(gguf_path)} bytes, logits std {logits.std():.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
