#!/usr/bin/env python3
"""Completion latency while typing, through `codegen-lsp complete --jsonl` (one process, as an editor session).

For each of N real 300-line files (the first 300 lines of modules of Python's standard library), one line in
the lower half of the file is
written anew: its text after the indentation is removed, and the cursor starts after the indentation. The first request on a file is "cold" (the model is loaded, but nothing of this file is in the KV
cache: the first completion in a freshly opened file). Then the line's original text is typed 1 to 3
characters at a time (inserted: the text below the cursor does not change), with a request after each step ("warm": 1 to 3 characters typed since the last request).
Reported: cold p50/p95/max, warm p50/p95, the share of warm answers that came from the completion cache, and
prompt tokens computed per warm request.

Usage: python3 Benchmarks/latency/typing_bench.py --binary .build/release/codegen-lsp [--files 20] [--steps 6]
       [--model qwen2.5-coder-0.5b] [--deadline-ms 1000] [--dump outputs.jsonl] [extra flags for codegen-lsp complete
       after --]
Requests run under the editor's deadline (--deadline-ms, default 1000 as in the server), as an editor would see them.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import sysconfig

MARKER = "<|cursor|>"


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100.0 * (len(ordered) - 1)))))]


def typing_cases(files, steps, seed):
    """The files and the typing of one line in each: a list of {"name", "line", "steps": [(prefix, suffix), ...]}
    ("line": the line's original text after its indentation), step 0
    the cursor after the line's indentation with the rest of the line removed, each later step 1 to 3 more
    characters of the original line typed."""
    rng = random.Random(seed)
    root = sysconfig.get_paths()["stdlib"]
    names = sorted(n for n in os.listdir(root) if n.endswith(".py"))
    cases = []
    for name in names:
        if len(cases) >= files:
            break
        lines = open(os.path.join(root, name), encoding="utf-8", errors="replace").read().splitlines(keepends=True)
        if len(lines) < 320 or rng.random() < 0.6:
            continue
        # The file is the first 300 lines of the module: a window that began at a random line could begin inside
        # a docstring, and the completion would then see string and code swapped, which no editor sends.
        window = lines[:300]
        candidates = [i for i in range(150, 290) if len(window[i].strip()) > 20 and not window[i].strip().startswith("#")]
        if not candidates:
            continue
        index = rng.choice(candidates)
        line = window[index]
        column = len(line) - len(line.lstrip())
        typed_end = column
        case = {"name": name, "steps": [], "line": line[column:].rstrip("\n")}
        for step in range(steps + 1):
            if step > 0:
                typed_end = min(len(line.rstrip("\n")), typed_end + rng.randint(1, 3))
            # The user writes this line anew: what is typed goes before the cursor, the lines below stay.
            case["steps"].append(("".join(window[:index]) + line[:typed_end], "\n" + "".join(window[index + 1:])))
        cases.append(case)
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dump", help="write every request's output (one JSON line each, with its kind) here")
    parser.add_argument(
        "--deadline-ms", type=int, default=1000,
        help="the editor's deadline per request (complete --jsonl has none unless given; 0: none)")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    requests, kinds = [], []
    for case in typing_cases(args.files, args.steps, args.seed):
        for step, (prefix, suffix) in enumerate(case["steps"]):
            requests.append({"id": len(requests), "text": prefix + MARKER + suffix, "language": "python",
                             "fileName": case["name"]})
            kinds.append("cold" if step == 0 else "warm")
    command = [args.binary, "complete", "--jsonl"] + (["--model", args.model] if args.model else []) + args.extra
    if args.deadline_ms:
        command += ["--deadline-ms", str(args.deadline_ms)]
    result = subprocess.run(command, input="".join(json.dumps(r) + "\n" for r in requests), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (" ".join(command), result.stderr[-3000:]))
    outputs = [json.loads(l) for l in result.stdout.splitlines() if l.strip()]
    cold = [o["ms"] for o, k in zip(outputs, kinds) if k == "cold" and "ms" in o]
    warm = [o for o, k in zip(outputs, kinds) if k == "warm" and "ms" in o]
    warm_ms = [o["ms"] for o in warm]
    print("command: %s" % " ".join(command))
    print("files: %d, warm requests: %d, errors: %d" % (len(cold), len(warm), sum("error" in o for o in outputs)))
    print("| requests | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    print("| cold (first in a fresh 300-line file) | %.0f | %.0f | %.0f |" % (
        percentile(cold, 50), percentile(cold, 95), max(cold)))
    print("| warm (1-3 characters typed) | %.0f | %.0f | %.0f |" % (
        percentile(warm_ms, 50), percentile(warm_ms, 95), max(warm_ms)))
    model_warm = [o for o in warm if not o.get("fromCache")]
    if model_warm:
        print("| warm, model ran (cache misses) | %.0f | %.0f | %.0f |" % (
            percentile([o["ms"] for o in model_warm], 50), percentile([o["ms"] for o in model_warm], 95),
            max(o["ms"] for o in model_warm)))
    print("warm answers from the completion cache: %.0f%%" % (100.0 * sum(bool(o.get("fromCache")) for o in warm) / len(warm)))
    computed = [o.get("computedTokens", 0) for o in model_warm]
    if computed:
        print("prompt tokens computed per warm model request: p50 %d, max %d" % (percentile(computed, 50), max(computed)))
        generated = [o.get("generatedTokens", 0) for o in model_warm]
        print("tokens generated per warm model request: p50 %d, p95 %d, max %d" % (
            percentile(generated, 50), percentile(generated, 95), max(generated)))
        stops = {}
        for o in model_warm:
            reason = o.get("stopReason", "?").split(":")[0]
            stops[reason] = stops.get(reason, 0) + 1
        print("stop reasons of warm model requests: %s" % ", ".join("%s %d" % kv for kv in sorted(stops.items())))
    if args.dump:
        with open(args.dump, "w") as f:
            for o, k in zip(outputs, kinds):
                f.write(json.dumps(dict(o, kind=k)) + "\n")


if __name__ == "__main__":
    main()
