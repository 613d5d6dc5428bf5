#!/usr/bin/env python3
"""Scores codegen-lsp completions on the cases of make_cases.py, through `codegen-lsp complete --jsonl`.

For every configuration (default: the full pipeline, and the pipeline with the syntax middleware and the
penalties off) it runs the binary once over all cases (one process: the KV cache and completion cache behave as
in the server) and reports:
- exact match: the completion equals the reference (line cases: the rest of the line; block cases: the body),
  both stripped of surrounding whitespace;
- edit similarity: 1 - Levenshtein(completion, reference) / max(len), averaged;
- parses as before: the file with the completion inserted parses whenever the file without it did
  (Python `ast`, `swiftc -parse`); also the plain share of files that parse after insertion;
- latency p50 / p95 of the `ms` field, and the share of empty completions.

Usage: python3 Benchmarks/quality/run_eval.py --binary .build/release/codegen-lsp --cases cases.jsonl
       [--model qwen2.5-coder-0.5b] [--limit N] [--config NAME=FLAGS ...] [--markdown]
"""

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile

MARKER = "<|cursor|>"
DEFAULT_CONFIGS = [
    ("middleware+penalties on", []),
    ("middleware+penalties off", ["--no-syntax-check", "--no-penalties"]),
]


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a, b):
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


_swift_cache = {}


def parses(language, text):
    if language == "python":
        try:
            ast.parse(text)
            return True
        except (SyntaxError, ValueError):
            return False
    if text in _swift_cache:
        return _swift_cache[text]
    with tempfile.NamedTemporaryFile("w", suffix=".swift", delete=False) as handle:
        handle.write(text)
        path = handle.name
    try:
        ok = subprocess.run(["swiftc", "-parse", path], capture_output=True).returncode == 0
    finally:
        os.unlink(path)
    _swift_cache[text] = ok
    return ok


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100.0 * (len(ordered) - 1)))))
    return ordered[index]


def run(binary, model, flags, cases, timeout):
    requests = "".join(json.dumps({"id": c["id"], "text": c["text"], "language": c["language"],
                                   "fileName": c["fileName"]}) + "\n" for c in cases)
    command = [binary, "complete", "--jsonl"] + (["--model", model] if model else []) + flags
    result = subprocess.run(command, input=requests, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit("%s failed (%d):\n%s" % (" ".join(command), result.returncode, result.stderr[-4000:]))
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if len(outputs) != len(cases):
        raise SystemExit("expected %d results, got %d" % (len(cases), len(outputs)))
    return outputs


def score(cases, outputs):
    rows = []
    for case, out in zip(cases, outputs):
        completion = out.get("text", "") if "error" not in out else ""
        prefix, suffix = case["text"].split(MARKER, 1)
        if case["kind"] == "line":
            completion_cmp = completion.split("\n", 1)[0]
        else:
            completion_cmp = completion
        before = parses(case["language"], prefix + suffix)
        after = parses(case["language"], prefix + completion + suffix)
        rows.append({
            "kind": case["kind"], "language": case["language"],
            "exact": completion_cmp.strip() == case["reference"].strip(),
            "similarity": similarity(completion_cmp.strip(), case["reference"].strip()),
            "parses_as_before": after or not before,
            "parses_after": after,
            "empty": not completion.strip(),
            "ms": out.get("ms", 0.0),
            "error": out.get("error"),
        })
    return rows


def summarise(rows):
    n = len(rows)
    ms = [r["ms"] for r in rows]
    return {
        "cases": n,
        "exact match": sum(r["exact"] for r in rows) / n,
        "edit similarity": statistics.mean(r["similarity"] for r in rows),
        "parses as before": sum(r["parses_as_before"] for r in rows) / n,
        "parses after": sum(r["parses_after"] for r in rows) / n,
        "empty": sum(r["empty"] for r in rows) / n,
        "errors": sum(1 for r in rows if r["error"]),
        "p50 ms": percentile(ms, 50),
        "p95 ms": percentile(ms, 95),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--cases", default="Benchmarks/quality/cases.jsonl")
    parser.add_argument("--model", default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--config", action="append", default=[],
                        help="NAME=FLAGS (space-separated flags of codegen-lsp complete); repeatable")
    parser.add_argument("--json", help="write the per-configuration summaries to this file")
    args = parser.parse_args()
    cases = [json.loads(line) for line in open(args.cases, encoding="utf-8") if line.strip()]
    if args.limit:
        cases = cases[:args.limit]
    configs = [(c.split("=", 1)[0], c.split("=", 1)[1].split()) for c in args.config] or DEFAULT_CONFIGS
    summaries = {}
    for name, flags in configs:
        outputs = run(args.binary, args.model, flags, cases, args.timeout)
        rows = score(cases, outputs)
        summary = {"all": summarise(rows)}
        for kind in ("line", "block"):
            subset = [r for r in rows if r["kind"] == kind]
            if subset:
                summary[kind] = summarise(subset)
        for language in ("python", "swift"):
            subset = [r for r in rows if r["language"] == language]
            if subset:
                summary[language] = summarise(subset)
        summaries[name] = summary
        print("## %s (%s)" % (name, " ".join(flags) or "defaults"))
        print("| subset | cases | exact match | edit similarity | parses as before | parses after | empty | p50 ms | p95 ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        for subset, s in summary.items():
            print("| %s | %d | %.1f%% | %.3f | %.1f%% | %.1f%% | %.1f%% | %.0f | %.0f |" % (
                subset, s["cases"], 100 * s["exact match"], s["edit similarity"], 100 * s["parses as before"],
                100 * s["parses after"], 100 * s["empty"], s["p50 ms"], s["p95 ms"]))
        print()
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summaries, handle, indent=2)


if __name__ == "__main__":
    main()
