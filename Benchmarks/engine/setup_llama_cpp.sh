#!/usr/bin/env bash
# Installs llama-cpp-python (built from its PyPI source distribution, CPU only) into a local virtual environment,
# Benchmarks/engine/.venv-llama-cpp, for the comparison in llama_cpp_bench.py. Idempotent.
# Building llama.cpp takes several minutes on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-llama-cpp"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
  echo "llama-cpp-python already installed in $venv"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
# Native build for this CPU (AVX2/FMA where present), no GPU backends, OpenMP threads as llama-bench uses.
CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  "$venv/bin/pip" install --no-cache-dir "llama-cpp-python==0.3.36" numpy
"$venv/bin/python" -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"
