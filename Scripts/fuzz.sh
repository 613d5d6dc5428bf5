#!/usr/bin/env bash
# Builds and runs one fuzz target of Tests/Fuzz with libFuzzer and AddressSanitizer.
#
#   Scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   Scripts/fuzz.sh all SECONDS                   # every target, SECONDS each
#
# TARGET: FuzzFramer, FuzzJSON, FuzzGGUF, FuzzTokenizer, FuzzSyntax, FuzzTextDocument. The build goes to
# .build-fuzz (CODEGEN_LSP_FUZZ=1 declares the targets; -sanitize=fuzzer,address instruments every module). The
# corpus starts from Scripts/fuzz_seeds.py and grows in .build-fuzz/corpus/TARGET; a crash, leak, timeout (10 s)
# or allocation over 1 GiB stops the run, leaves the reproducer in .build-fuzz/crashes/TARGET/ (its bytes are
# printed too, so a CI log keeps it) and exits 1. `FUZZ_RUNS=N` stops after N executions instead of a time.
# Replay a reproducer: SWIFT_BACKTRACE=enable=no .build-fuzz/release/TARGET FILE (the Swift backtracer would wait on
# the crashed process otherwise)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
targets=(FuzzFramer FuzzJSON FuzzGGUF FuzzTokenizer FuzzSyntax FuzzTextDocument)
if [ $# -lt 2 ]; then
  echo "usage: Scripts/fuzz.sh {$(IFS=,; echo "${targets[*]}"),all} SECONDS [libFuzzer options...]" >&2
  exit 2
fi
target="$1"
seconds="$2"
shift 2
if [ "$target" = all ]; then
  status=0
  for each in "${targets[@]}"; do "$0" "$each" "$seconds" "$@" || status=1; done
  exit $status
fi
case " ${targets[*]} " in *" $target "*) ;; *) echo "unknown fuzz target $target" >&2; exit 2 ;; esac

scratch="$root/.build-fuzz"
CODEGEN_LSP_FUZZ=1 swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address \
  --product "$target" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" | tail -3
binary="$scratch/release/$target"
corpus="$scratch/corpus/$target"
crashes="$scratch/crashes/$target"
mkdir -p "$corpus" "$crashes"
python3 Scripts/fuzz_seeds.py "$target" "$corpus"

limit=(-max_total_time="$seconds")
if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); fi
log="$scratch/$target.log"
set +e
SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$root/Tests/Fuzz/lsan.supp" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" "$binary" "${limit[@]}" -timeout=10 \
  -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
  "$@" "$corpus" > "$log" 2>&1
code=$?
set -e
grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^#[0-9]+ *DONE|cov: " "$log" | tail -4
if [ $code -ne 0 ]; then
  echo "$target: failed (exit $code); the log is $log" >&2
  grep -E "ERROR|==ERROR|Fatal error|fuzz invariant|SUMMARY|Test unit written" "$log" | head -20 >&2
  for file in "$crashes"/*; do
    [ -f "$file" ] || continue
    echo "reproducer $file ($(wc -c < "$file") bytes), hex:" >&2
    head -c 4096 "$file" | od -An -tx1 -v | tr -d ' \n' | fold -w 128 >&2
    echo >&2
  done
  exit 1
fi
echo "$target: no crash in ${FUZZ_RUNS:-$seconds s}"
