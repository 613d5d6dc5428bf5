#!/usr/bin/env python3
"""Ours and llama.cpp alternated on the same files, several rounds, medians: for a machine whose speed drifts.

Each round runs, for every model: our engine benchmark (`codegen-bench engine` (prefill 512, decode 64, memory bandwidth
and the bound, one process per model) and then llama_cpp_bench.py on the same file, so both engines see the
same conditions within minutes. The first engine alternates between rounds. Prints every raw line, then one
summary line per model: medians (and best) of prefill and decode for both, the median of the per-round decode
ratios ours / llama.cpp, and the median decode fraction of the bound: with the highest bandwidth probe of each
round's process, paired (each decode run against the probes just before and after it), and with the highest
bandwidth measured in the whole run (the strictest reading when the host's bandwidth drifts).

Needs: the benchmark executable in $SCRATCH (default .build; `CODEGEN_LSP_BENCH=1 swift build -c release -Xswiftc
-enable-testing --product codegen-bench`), Benchmarks/engine/.venv-llama-cpp (setup_llama_cpp.sh), the models in the models directory.
Run: python3 Benchmarks/engine/interleaved.py [--rounds 3] [--models smollm2-135m,qwen2.5-coder-0.5b]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("CODEGEN_LSP_MODELS_DIR", os.path.expanduser("~/.cache/codegen-lsp/models"))
TESTS = {
    "smollm2-135m": "smollm2",
    "qwen2.5-coder-0.5b": "qwen-coder",
    "qwen2.5-coder-0.5b-q8_0": "qwen-coder-q8_0",
}


def ours(model, scratch):
    env = dict(os.environ, CODEGEN_LSP_BENCH="1", CODEGEN_LSP_BENCH_THREADS=os.environ.get("CODEGEN_LSP_BENCH_THREADS", "2"))
    out = subprocess.run(
        [os.path.join(scratch, "release", "codegen-bench"), "engine", TESTS[model]],
        cwd=ROOT, env=env, capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("BENCH")), None)
    if line is None:
        sys.exit(f"interleaved: no BENCH line for {model}:\n{out[-2000:]}")
    print(line, flush=True)
    num = lambda pattern: float(re.search(pattern, line).group(1))
    return {"prefill": num(r"prefill\(512\) ([\d.]+)"), "decode": num(r"decode\(64\) ([\d.]+)"),
            "fraction": num(r"decode at (\d+)% of bound") / 100,
            "paired": num(r"paired with the probes around each run: median (\d+)%") / 100, "bandwidth": num(r"bandwidth ([\d.]+) GB/s")}


def llama(model):
    python = os.path.join(ROOT, "Benchmarks", "engine", ".venv-llama-cpp", "bin", "python")
    out = subprocess.run([python, os.path.join(ROOT, "Benchmarks", "engine", "llama_cpp_bench.py"),
                          os.path.join(MODELS, model + ".gguf")], capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("LLAMA.CPP")), None)
    if line is None:
        sys.exit(f"interleaved: no LLAMA.CPP line for {model}")
    print(line, flush=True)
    return {"prefill": float(re.search(r"pp512 ([\d.]+)", line).group(1)),
            "decode": float(re.search(r"tg64 ([\d.]+)", line).group(1))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b")
    parser.add_argument("--scratch", default=os.environ.get("SCRATCH", ".build"))
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if os.path.exists(os.path.join(MODELS, m + ".gguf"))]
    with open("/proc/cpuinfo") as f:
        cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    print(f"machine: {cpu}, {os.cpu_count()} cores, load {open('/proc/loadavg').read().split()[:3]}", flush=True)
    results = {m: {"ours": [], "llama": []} for m in models}
    for r in range(args.rounds):
        for m in models:
            order = ["ours", "llama"] if r % 2 == 0 else ["llama", "ours"]
            for engine in order:
                results[m][engine].append(ours(m, args.scratch) if engine == "ours" else llama(m))
    med = statistics.median
    # The host's bandwidth drifts between rounds; the highest read-sum of the whole run gives the strictest bound.
    top = max(x["bandwidth"] for m in models for x in results[m]["ours"])
    for m in models:
        o, l = results[m]["ours"], results[m]["llama"]
        ratio = med([a["decode"] / b["decode"] for a, b in zip(o, l)])
        pratio = med([a["prefill"] / b["prefill"] for a, b in zip(o, l)])
        print(f"SUMMARY {m} ({args.rounds} rounds, medians, best in brackets): prefill ours {med([x['prefill'] for x in o]):.1f} "
              f"[{max(x['prefill'] for x in o):.1f}] / llama.cpp {med([x['prefill'] for x in l]):.1f} [{max(x['prefill'] for x in l):.1f}] "
              f"(ratio {pratio:.2f}); decode ours {med([x['decode'] for x in o]):.1f} [{max(x['decode'] for x in o):.1f}] / "
              f"llama.cpp {med([x['decode'] for x in l]):.1f} [{max(x['decode'] for x in l):.1f}] (ratio {ratio:.2f}); "
              f"decode / bound {med([x['fraction'] for x in o]):.0%}, paired {med([x['paired'] for x in o]):.0%} (bandwidth {med([x['bandwidth'] for x in o]):.1f} GB/s); "
              f"against the highest bandwidth of the run ({top:.1f} GB/s) {med([x['fraction'] * x['bandwidth'] / top for x in o]):.0%}",
              flush=True)


if __name__ == "__main__":
    main()
