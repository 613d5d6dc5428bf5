#!/usr/bin/env bash
# Sets up and runs every test: unit tests, end-to-end tests over the real binary, real-model tests (the pinned
# models are fetched and verified by hash first) and the editor tests (Neovim and Emacs, headless). First, the
# formatter's check: the sources must be as `swift format` (the toolchain's, configured by .swift-format) writes them;
# `swift format format --in-place --recursive Sources Tests Benchmarks/codegen-bench Package.swift` fixes them; and
# every target must declare exactly the modules it imports (Scripts/check_imports.py). The benchmark executable is
# built (not run) so that it keeps compiling. Last, each fuzz target (Tests/Fuzz) runs for CODEGEN_LSP_FUZZ_SECONDS
# (default 60; 0 skips them) with AddressSanitizer; a crash fails the run with its reproducer printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh --test
swift format lint --strict --recursive Sources Tests Benchmarks/codegen-bench Package.swift
python3 Scripts/check_imports.py
python3 Scripts/fetch_model.py smollm2-135m qwen2.5-coder-0.5b >/dev/null
export CODEGEN_LSP_MODEL_TESTS=1
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing
CODEGEN_LSP_BENCH=1 swift build -c release -Xswiftc -enable-testing --product codegen-bench
if [[ -x Tests/Editors/run.sh ]]; then
  bash Tests/Editors/run.sh .build/release/codegen-lsp
fi
fuzz_seconds="${CODEGEN_LSP_FUZZ_SECONDS:-60}"
if [[ "$fuzz_seconds" != 0 ]]; then
  bash Scripts/fuzz.sh all "$fuzz_seconds"
fi
