#!/usr/bin/env python3
"""Lists the cases of run_eval.py whose completion breaks parsing (parses_as_before false), with the completion,
the reference, the stop reason and the middleware's --explain trace, so the causes can be classified.

It runs the binary once with --explain (or reads the outputs of an earlier run with --outputs), and can save the
outputs (--save) for later comparisons.

Usage: python3 Benchmarks/quality/list_failures.py --binary .build/release/codegen-lsp --cases cases80.jsonl
       [--flags "--no-syntax-check --no-penalties"] [--save out.jsonl | --outputs out.jsonl] [--all]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_eval  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--cases", default="Benchmarks/quality/cases.jsonl")
    parser.add_argument("--model", default=None)
    parser.add_argument("--flags", default="", help="extra flags of codegen-lsp complete")
    parser.add_argument("--save", help="write the raw outputs (one JSON line per case) here")
    parser.add_argument("--outputs", help="read raw outputs saved by --save instead of running the binary")
    parser.add_argument("--all", action="store_true", help="list every case, not only the failures")
    parser.add_argument("--timeout", type=int, default=3600)
    args = parser.parse_args()
    cases = [json.loads(line) for line in open(args.cases, encoding="utf-8") if line.strip()]
    if args.outputs:
        outputs = [json.loads(line) for line in open(args.outputs, encoding="utf-8") if line.strip()]
    else:
        outputs = run_eval.run(args.binary, args.model, args.flags.split() + ["--explain"], cases, args.timeout)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as handle:
            for out in outputs:
                handle.write(json.dumps(out) + "\n")
    rows = run_eval.score(cases, outputs)
    failures = 0
    for case, out, row in zip(cases, outputs, rows):
        if row["parses_as_before"] and not args.all:
            continue
        failures += not row["parses_as_before"]
        prefix, suffix = case["text"].split(run_eval.MARKER, 1)
        print("=" * 100)
        print("case %s  %s %s  %s  parses_as_before=%s exact=%s ms=%.0f stop=%r" % (
            case.get("id"), case["kind"], case["language"], case["fileName"], row["parses_as_before"],
            row["exact"], out.get("ms", 0), out.get("stopReason")))
        print("--- before cursor (last 3 lines):")
        print("\n".join(prefix.split("\n")[-3:]) + "|")
        print("--- after cursor (first 3 lines):")
        print("|" + "\n".join(suffix.split("\n")[:3]))
        print("--- completion:")
        print(repr(out.get("text", "")))
        print("--- reference:")
        print(repr(case["reference"]))
        print("--- trace:")
        for line in out.get("trace", []):
            print("  " + line)
    print("=" * 100)
    print("%d of %d cases break parsing" % (failures, len(cases)))
    for subset in ("all", "line", "block"):
        chosen = [r for r in rows if subset == "all" or r["kind"] == subset]
        if chosen:
            s = run_eval.summarise(chosen)
            print("%-5s cases %d  exact %.1f%%  similarity %.3f  parses as before %.1f%%  empty %.1f%%  p50 %.0f ms" % (
                subset, s["cases"], 100 * s["exact match"], s["edit similarity"], 100 * s["parses as before"],
                100 * s["empty"], s["p50 ms"]))


if __name__ == "__main__":
    main()
