#!/usr/bin/env bash
# Engine speed: our prefill/decode/memory figures (`codegen-bench engine`, release build, 2 threads), then
# llama.cpp's on the same files through llama-cpp-python (setup_llama_cpp.sh installs it). Each of our
# benchmarks runs in its own process so that VmHWM is per model. Output: one BENCH / LLAMA.CPP line per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch="${SCRATCH:-.build-bench}"
export CODEGEN_LSP_BENCH=1 CODEGEN_LSP_BENCH_THREADS="${CODEGEN_LSP_BENCH_THREADS:-2}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
swift build --scratch-path "$scratch" -c release -Xswiftc -enable-testing --product codegen-bench >/dev/null
for b in ${BENCHES:-smollm2 smollm2-exact qwen-coder qwen-coder-exact qwen-coder-f32-cache qwen-coder-q8_0}; do
  "$scratch/release/codegen-bench" engine "$b" 2>&1 | grep -E '^(BENCH|skipped)' || true
done
if [ -x Benchmarks/engine/.venv-llama-cpp/bin/python ]; then
  Benchmarks/engine/.venv-llama-cpp/bin/python Benchmarks/engine/llama_cpp_bench.py "$@" 2>/dev/null | grep '^LLAMA.CPP'
else
  echo "llama.cpp: run Benchmarks/engine/setup_llama_cpp.sh first"
fi
