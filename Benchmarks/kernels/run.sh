#!/usr/bin/env bash
# Kernel benchmarks (opt-in tests that print "BENCH" lines): memory bandwidth, pool dispatch overhead, gemv of every
# real layer shape, the decode weight sweep, prefill matmul and its threading choice. Release build.
#   Benchmarks/kernels/run.sh [test-filter]        e.g. Benchmarks/kernels/run.sh KernelBenchmarks/testDecodeWeightSweep
# Needs the real models in $CODEGEN_LSP_MODELS_DIR (default ~/.cache/codegen-lsp/models). Prints the machine too.
set -euo pipefail
cd "$(dirname "$0")/../.."
filter="${1:-KernelBenchmarks}"
scratch="${SCRATCH:-.build-kernels}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
swift build --scratch-path "$scratch" -c release -Xswiftc -enable-testing --build-tests >/dev/null
CODEGEN_LSP_BENCH=1 swift test --scratch-path "$scratch" -c release -Xswiftc -enable-testing --skip-build \
  --filter "$filter" 2>&1 | grep '^BENCH' | sed 's/^BENCH //'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
