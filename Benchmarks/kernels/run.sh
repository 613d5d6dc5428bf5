#!/usr/bin/env bash
# Kernel benchmarks (`codegen-bench kernels`, which prints "BENCH" lines): memory bandwidth, pool dispatch overhead,
# gemv of every real layer shape, the decode weight sweep, prefill matmul and its threading choice. Release build.
#   Benchmarks/kernels/run.sh [SUITE [NAME ...]]   e.g. Benchmarks/kernels/run.sh kernels decode-weight-sweep
#                                                 or   Benchmarks/kernels/run.sh stream
# Needs the real models in $CODEGEN_LSP_MODELS_DIR (default ~/.cache/codegen-lsp/models). Prints the machine too.
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch="${SCRATCH:-.build-kernels}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
CODEGEN_LSP_BENCH=1 swift build --scratch-path "$scratch" -c release -Xswiftc -enable-testing --product codegen-bench >/dev/null
"$scratch/release/codegen-bench" "${@:-kernels}" 2>&1 | grep -E '^(BENCH|skipped)' | sed 's/^BENCH //'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
